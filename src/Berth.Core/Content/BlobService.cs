namespace Berth.Core.Content;

/// <summary>Reading, mounting and unlinking blobs of a repository.</summary>
public sealed class BlobService(IBlobStore blobs, IMetadataStore metadata, ContentLocks locks)
{
    /// <summary>The blob's size if the repository links it and its bytes are present.</summary>
    public async Task<long> GetSizeAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) =>
        await metadata.GetLinkedBlobSizeOrNullAsync(repository, digest, cancellationToken) ?? throw BlobUnknown(digest);

    public async Task<BlobContent> OpenAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        await GetSizeAsync(repository, digest, cancellationToken);
        return await blobs.OpenOrNullAsync(digest, cancellationToken) ?? throw BlobUnknown(digest);
    }

    /// <summary>Where the client may fetch the blob directly (see <see cref="IBlobStore.GetDownloadRedirectOrNullAsync"/>), once the repository is known to link it.</summary>
    public async Task<Uri?> GetDownloadRedirectOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        // The store answers without I/O, so a store that never redirects costs no extra metadata lookup.
        var location = await blobs.GetDownloadRedirectOrNullAsync(digest, cancellationToken);
        if (location is not null) await GetSizeAsync(repository, digest, cancellationToken);
        return location;
    }

    /// <summary>Repositories consulted for a mount without <c>from</c>; enough for any real registry, bounded for a hostile one.</summary>
    private const int MountCandidateLimit = 100;

    /// <summary>
    /// Links a blob another repository already has. With <paramref name="from"/> the blob must be in that repository;
    /// without it, in some repository of the registry the <paramref name="caller"/> may pull, so that a mount never
    /// hands out bytes the caller could not pull. Null when there is nothing to mount (the caller falls back to an upload).
    /// </summary>
    public async Task<CommittedBlob?> TryMountAsync(RepositoryKey repository, Digest digest, RepositoryKey? from, Permissions caller, CancellationToken cancellationToken)
    {
        await locks.EnsureRepositoryWritableAsync(repository, cancellationToken);
        if (from is null)
        {
            var candidates = await metadata.ListRepositoriesLinkingBlobAsync(repository.Registry, digest, MountCandidateLimit, cancellationToken);
            var readable = candidates.FirstOrDefault(name => MayRead(caller, name));
            if (readable is null) return null;
            from = repository with { Name = readable };
        }
        else if (!MayRead(caller, from.Value.Name))
        {
            return null;
        }
        var size = await metadata.GetLinkedBlobSizeOrNullAsync(from.Value, digest, cancellationToken);
        if (size is null || await blobs.GetSizeOrNullAsync(digest, cancellationToken) is null) return null;
        // The collector may just have found the blob unlinked (say, it collected the link in `from`) and be deleting
        // its bytes; then the mount is withdrawn and the client uploads instead.
        if (!await BlobLinking.TryLinkAsync(metadata, blobs, repository, digest, size.Value, cancellationToken)) return null;
        return new CommittedBlob(digest, size.Value);
    }

    private static bool MayRead(Permissions caller, string repository) => caller.AllowsRepository(repository, RepositoryActions.Pull);

    public async Task DeleteAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        var deletion = await metadata.DeleteBlobLinkAsync(repository, digest, cancellationToken);
        ContentLocks.EnsureNoneLocked(repository, deletion.Locked, $"blob {digest} is used by locked content and was not deleted");
        if (!deletion.Found) throw BlobUnknown(digest);
    }

    private static OciException BlobUnknown(Digest digest) =>
        new(OciErrorCode.BlobUnknown, "blob unknown to registry", new { digest = digest.ToString() });
}
