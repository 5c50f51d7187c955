using Berth.Core.Webhooks;

namespace Berth.Core.Caching;

/// <summary>
/// Keeps the reads of a manifest pull (tag → digest, digest → manifest) in memory. Every write that can change them
/// bumps the registry's content generation, after the write, so the next read goes to the store again.
/// </summary>
internal sealed class CachingMetadataStore(IMetadataStore inner, ChangeGenerations generations) : IMetadataStore
{
    private const int Capacity = 50_000;
    private readonly GenerationCache<(string, string, string), Digest?> _tags = new(Capacity);
    private readonly GenerationCache<(string, string, Digest), StoredManifest?> _manifests = new(Capacity);

    public Task<Digest?> GetTagOrNullAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken) =>
        _tags.GetOrLoadAsync((repository.Registry, repository.Name, tag), Generation(repository, cancellationToken),
            () => inner.GetTagOrNullAsync(repository, tag, cancellationToken));

    public Task<StoredManifest?> GetManifestOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) =>
        _manifests.GetOrLoadAsync((repository.Registry, repository.Name, digest), Generation(repository, cancellationToken),
            () => inner.GetManifestOrNullAsync(repository, digest, cancellationToken));

    public Task PutManifestAsync(RepositoryKey repository, ManifestWrite write, CancellationToken cancellationToken) =>
        ChangingAsync(repository.Registry, () => inner.PutManifestAsync(repository, write, cancellationToken));

    public Task<ContentDeletion> DeleteManifestAsync(RepositoryKey repository, Digest digest, bool softDelete, EventRequest? request, CancellationToken cancellationToken) =>
        ChangingAsync(repository.Registry, () => inner.DeleteManifestAsync(repository, digest, softDelete, request, cancellationToken));

    public Task<ContentDeletion> DeleteTagAsync(RepositoryKey repository, string tag, bool softDelete, EventRequest? request, CancellationToken cancellationToken) =>
        ChangingAsync(repository.Registry, () => inner.DeleteTagAsync(repository, tag, softDelete, request, cancellationToken));

    public Task DeleteRegistryContentAsync(string registry, CancellationToken cancellationToken) =>
        ChangingAsync(registry, () => inner.DeleteRegistryContentAsync(registry, cancellationToken));

    public Task<bool> DeleteManifestIfUnusedAsync(RepositoryKey repository, Digest digest, DateTimeOffset createdBefore, CancellationToken cancellationToken) =>
        ChangingAsync(repository.Registry, () => inner.DeleteManifestIfUnusedAsync(repository, digest, createdBefore, cancellationToken));

    public Task<bool> DeleteExpiredUntaggedManifestAsync(RepositoryKey repository, Digest digest, DateTimeOffset untaggedFrom, DateTimeOffset untaggedBefore,
        CancellationToken cancellationToken) =>
        ChangingAsync(repository.Registry, () => inner.DeleteExpiredUntaggedManifestAsync(repository, digest, untaggedFrom, untaggedBefore, cancellationToken));

    // Everything else passes straight through: uncached reads, and writes that change no cached answer.
    public Task<bool> IsReadyAsync(CancellationToken cancellationToken) => inner.IsReadyAsync(cancellationToken);
    public Task<IAsyncDisposable?> TryAcquireMaintenanceLeaseAsync(CancellationToken cancellationToken) => inner.TryAcquireMaintenanceLeaseAsync(cancellationToken);
    public Task<long?> GetLinkedBlobSizeOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) => inner.GetLinkedBlobSizeOrNullAsync(repository, digest, cancellationToken);
    public Task<long> GetRegistrySizeAsync(string registry, CancellationToken cancellationToken) => inner.GetRegistrySizeAsync(registry, cancellationToken);
    public Task<IReadOnlyList<string>> ListRepositoriesLinkingBlobAsync(string registry, Digest digest, int limit, CancellationToken cancellationToken) => inner.ListRepositoriesLinkingBlobAsync(registry, digest, limit, cancellationToken);
    public Task LinkBlobAsync(RepositoryKey repository, Digest digest, long size, CancellationToken cancellationToken) => inner.LinkBlobAsync(repository, digest, size, cancellationToken);
    public Task<bool> UnlinkBlobAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) => inner.UnlinkBlobAsync(repository, digest, cancellationToken);

    public Task<ContentDeletion> DeleteBlobLinkAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) => inner.DeleteBlobLinkAsync(repository, digest, cancellationToken);
    public Task<IReadOnlyList<Digest>> FindUnlinkedBlobsAsync(RepositoryKey repository, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) => inner.FindUnlinkedBlobsAsync(repository, digests, cancellationToken);
    public Task<IReadOnlyList<Digest>> FindMissingManifestsAsync(RepositoryKey repository, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) => inner.FindMissingManifestsAsync(repository, digests, cancellationToken);
    public Task<IReadOnlyList<string>> ListTagsAsync(RepositoryKey repository, int limit, string? last, CancellationToken cancellationToken) => inner.ListTagsAsync(repository, limit, last, cancellationToken);
    public Task<bool> RepositoryExistsAsync(RepositoryKey repository, CancellationToken cancellationToken) => inner.RepositoryExistsAsync(repository, cancellationToken);
    public Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, int limit, string? last, CancellationToken cancellationToken) => inner.ListRepositoriesAsync(registry, limit, last, cancellationToken);
    public Task<IReadOnlyList<ReferrerRecord>> ListReferrersAsync(RepositoryKey repository, Digest subject, CancellationToken cancellationToken) => inner.ListReferrersAsync(repository, subject, cancellationToken);
    public Task CreateUploadAsync(UploadSession session, CancellationToken cancellationToken) => inner.CreateUploadAsync(session, cancellationToken);
    public Task<UploadSession?> GetUploadOrNullAsync(string uploadId, CancellationToken cancellationToken) => inner.GetUploadOrNullAsync(uploadId, cancellationToken);
    public Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken) => inner.DeleteUploadAsync(uploadId, cancellationToken);

    public Task<RepositoryContent> GetRepositoryContentAsync(RepositoryKey repository, CancellationToken cancellationToken) => inner.GetRepositoryContentAsync(repository, cancellationToken);
    public Task<bool> DeleteBlobLinkIfUnreferencedAsync(RepositoryKey repository, Digest digest, DateTimeOffset createdBefore, CancellationToken cancellationToken) => inner.DeleteBlobLinkIfUnreferencedAsync(repository, digest, createdBefore, cancellationToken);
    public Task<IReadOnlyList<Digest>> FindLinkedBlobsAsync(IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken) => inner.FindLinkedBlobsAsync(digests, cancellationToken);
    public Task<IReadOnlyList<UploadSession>> ListUploadsStartedBeforeAsync(DateTimeOffset startedBefore, int limit, CancellationToken cancellationToken) => inner.ListUploadsStartedBeforeAsync(startedBefore, limit, cancellationToken);

    private ValueTask<long> Generation(RepositoryKey repository, CancellationToken cancellationToken) =>
        generations.CurrentAsync(repository.Registry, ChangeKind.Content, cancellationToken);

    private async Task ChangingAsync(string registry, Func<Task> write)
    {
        try { await write(); }
        finally { await generations.BumpAsync(registry, ChangeKind.Content); }
    }

    private async Task<T> ChangingAsync<T>(string registry, Func<Task<T>> write)
    {
        try { return await write(); }
        finally { await generations.BumpAsync(registry, ChangeKind.Content); }
    }
}
