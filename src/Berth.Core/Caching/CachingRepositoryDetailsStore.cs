using Berth.Core.Content;

namespace Berth.Core.Caching;

/// <summary>
/// Keeps the lock check of every pull and push (<see cref="GetEffectiveAttributesAsync"/>) in memory, in the same
/// content generation as <see cref="CachingMetadataStore"/>: attribute changes and deletions bump it.
/// </summary>
internal sealed class CachingRepositoryDetailsStore(IRepositoryDetailsStore inner, ChangeGenerations generations) : IRepositoryDetailsStore
{
    private readonly GenerationCache<(string, string, string?, Digest?), EffectiveAttributes> _attributes = new(50_000);

    public Task<EffectiveAttributes> GetEffectiveAttributesAsync(RepositoryKey repository, string? tag, Digest? manifest, CancellationToken cancellationToken) =>
        _attributes.GetOrLoadAsync((repository.Registry, repository.Name, tag, manifest), generations.CurrentAsync(repository.Registry, ChangeKind.Content, cancellationToken),
            () => inner.GetEffectiveAttributesAsync(repository, tag, manifest, cancellationToken));

    public async Task<bool> SetAttributesAsync(RepositoryKey repository, AttributeTarget target, string key, ContentAttributes attributes, CancellationToken cancellationToken)
    {
        try { return await inner.SetAttributesAsync(repository, target, key, attributes, cancellationToken); }
        finally { await generations.BumpAsync(repository.Registry, ChangeKind.Content); }
    }

    public async Task<RepositoryDeletion?> DeleteRepositoryAsync(RepositoryKey repository, bool softDelete, Webhooks.EventRequest? request, CancellationToken cancellationToken)
    {
        try { return await inner.DeleteRepositoryAsync(repository, softDelete, request, cancellationToken); }
        finally { await generations.BumpAsync(repository.Registry, ChangeKind.Content); }
    }

    public Task<RepositoryDetails?> GetRepositoryOrNullAsync(RepositoryKey repository, CancellationToken cancellationToken) => inner.GetRepositoryOrNullAsync(repository, cancellationToken);
    public Task<IReadOnlyList<TagDetails>> ListTagsAsync(RepositoryKey repository, int limit, string? last, ListOrder order, CancellationToken cancellationToken) => inner.ListTagsAsync(repository, limit, last, order, cancellationToken);
    public Task<IReadOnlyList<TagDetails>> SearchTagsAsync(RepositoryKey repository, string contains, TagPosition? from, bool before, int limit, CancellationToken cancellationToken) => inner.SearchTagsAsync(repository, contains, from, before, limit, cancellationToken);
    public Task<IReadOnlyList<string>> SearchRepositoriesAsync(string registry, string contains, int limit, string? last, CancellationToken cancellationToken) => inner.SearchRepositoriesAsync(registry, contains, limit, last, cancellationToken);
    public Task<TagDetails?> GetTagOrNullAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken) => inner.GetTagOrNullAsync(repository, tag, cancellationToken);
    public Task<IReadOnlyList<ManifestDetails>> ListManifestsAsync(RepositoryKey repository, int limit, string? last, ListOrder order, CancellationToken cancellationToken) => inner.ListManifestsAsync(repository, limit, last, order, cancellationToken);
    public Task<ManifestDetails?> GetManifestOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) => inner.GetManifestOrNullAsync(repository, digest, cancellationToken);
}
