namespace Berth.Core.Content;

/// <summary>
/// Writing a repository's link to stored bytes so that garbage collection cannot take the bytes from under it.
/// The link and the bytes live in two stores, so no transaction covers both. The collector deletes bytes only when
/// no link exists at its last check and the bytes are older than the grace period (a conditional delete). Refreshing
/// the bytes after the link is written settles any race with it: refreshed first, the bytes are kept; deleted
/// first, the refresh finds nothing and the link is withdrawn, so a link is only ever acknowledged with its bytes.
/// An upload commits (and so refreshes) just before linking, which makes the refresh redundant unless the two steps
/// were further apart than the grace period; the refresh keeps the guarantee from depending on that timing.
/// </summary>
public static class BlobLinking
{
    /// <summary>Tries enough times to outlast another client re-storing the same bytes during a collection.</summary>
    private const int Attempts = 3;

    /// <summary>Links the blob; false (and no link left behind) when its bytes are gone.</summary>
    public static async Task<bool> TryLinkAsync(IMetadataStore metadata, IBlobStore blobs, RepositoryKey repository, Digest digest, long size, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            await metadata.LinkBlobAsync(repository, digest, size, cancellationToken);
            if (await blobs.RefreshAsync(digest, cancellationToken)) return true;
            await metadata.UnlinkBlobAsync(repository, digest, cancellationToken);
            // Another client may have stored the same bytes again and linked them meanwhile (its link was the one
            // just removed): then link once more rather than take its acknowledged blob away.
            if (await blobs.GetSizeOrNullAsync(digest, cancellationToken) is null) return false;
        }
        return false;
    }
}
