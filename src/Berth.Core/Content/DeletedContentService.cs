namespace Berth.Core.Content;

/// <summary>
/// ACR's soft-deleted content on the data plane (<c>/acr/v1/_deleted</c>): what a delete kept while the registry's
/// soft-delete policy was on, and bringing it back. Restoring is allowed whatever the policy says now, as long as the
/// content has not been purged.
/// </summary>
public sealed class DeletedContentService(IDeletedContentStore store, IMetadataStore metadata, ContentLocks locks)
{
    public Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, int limit, string? last, CancellationToken cancellationToken) =>
        store.ListRepositoriesAsync(registry, limit, last, cancellationToken);

    public Task<IReadOnlyList<DeletedManifest>> ListManifestsAsync(RepositoryKey repository, int limit, long after, CancellationToken cancellationToken) =>
        store.ListManifestsAsync(repository, limit, after, cancellationToken);

    public Task<IReadOnlyList<DeletedTag>> ListTagsAsync(RepositoryKey repository, int limit, long after, CancellationToken cancellationToken) =>
        store.ListTagsAsync(repository, limit, after, cancellationToken);

    /// <summary>
    /// Restores the manifest and points <paramref name="tag"/> at it. A tag that points at another manifest is moved only
    /// with <paramref name="force"/> (az's <c>--force</c>), and never when it is locked against writes.
    /// </summary>
    public async Task RestoreAsync(RepositoryKey repository, Digest digest, string? tag, bool force, CancellationToken cancellationToken)
    {
        if (tag is not null)
        {
            Names.EnsureTag(tag);
            await locks.EnsureTagWritableAsync(repository, tag, digest, await metadata.GetTagOrNullAsync(repository, tag, cancellationToken), cancellationToken);
        }
        var outcome = await store.RestoreAsync(repository, digest, tag, force, cancellationToken);
        switch (outcome)
        {
            case RestoreOutcome.NotFound:
                throw new OciException(OciErrorCode.ManifestUnknown, "the manifest is neither deleted nor present: it may have been purged", new { digest = digest.ToString() });
            case RestoreOutcome.TagInUse:
                throw new OciException(OciErrorCode.TagInvalid,
                    $"tag {tag} already points at another manifest; restore with force to move it", new { tag }, status: 409);
            case RestoreOutcome.SubjectDeleted:
                throw new OciException(OciErrorCode.ManifestUnknown,
                    "the manifest is a referrer whose subject is deleted too: restore the subject first", new { digest = digest.ToString() }, status: 409);
        }
    }
}
