namespace Berth.Core.Caching;

/// <summary>A restore changes what pulls see (a manifest and a tag come back), so it bumps the content generation like any write.</summary>
internal sealed class CachingDeletedContentStore(IDeletedContentStore inner, ChangeGenerations generations) : IDeletedContentStore
{
    public async Task<RestoreOutcome> RestoreAsync(RepositoryKey repository, Digest digest, string? tag, bool force, CancellationToken cancellationToken)
    {
        try { return await inner.RestoreAsync(repository, digest, tag, force, cancellationToken); }
        finally { await generations.BumpAsync(repository.Registry, ChangeKind.Content); }
    }

    // Deleted content is never cached: listings and purges pass straight through.
    public Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, int limit, string? last, CancellationToken cancellationToken) => inner.ListRepositoriesAsync(registry, limit, last, cancellationToken);
    public Task<IReadOnlyList<DeletedManifest>> ListManifestsAsync(RepositoryKey repository, int limit, long after, CancellationToken cancellationToken) => inner.ListManifestsAsync(repository, limit, after, cancellationToken);
    public Task<IReadOnlyList<DeletedTag>> ListTagsAsync(RepositoryKey repository, int limit, long after, CancellationToken cancellationToken) => inner.ListTagsAsync(repository, limit, after, cancellationToken);
    public Task<PurgedContent> PurgeAsync(string registry, DateTimeOffset deletedBefore, bool dryRun, CancellationToken cancellationToken) => inner.PurgeAsync(registry, deletedBefore, dryRun, cancellationToken);
}
