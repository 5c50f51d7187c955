namespace Berth.Core.Storage;

/// <summary>A soft-deleted manifest; <see cref="Sequence"/> orders deletions and pages listings.</summary>
public sealed record DeletedManifest(long Sequence, Digest Digest, string MediaType, DateTimeOffset CreatedAt, DateTimeOffset DeletedAt);

/// <summary>A soft-deleted tag and the manifest it pointed at; the same tag may be listed once per deletion.</summary>
public sealed record DeletedTag(long Sequence, string Tag, Digest Digest, DateTimeOffset CreatedAt, DateTimeOffset DeletedAt);

public enum RestoreOutcome
{
    Restored,

    /// <summary>The manifest is neither soft-deleted nor present.</summary>
    NotFound,

    /// <summary>The tag points at another manifest and the restore was not forced.</summary>
    TagInUse,

    /// <summary>The manifest is a referrer whose subject is soft-deleted: the subject must be restored first.</summary>
    SubjectDeleted,
}

/// <summary>What a purge removed (or, in a dry run, would remove).</summary>
public sealed record PurgedContent(IReadOnlyList<(string Repository, Digest Digest)> Manifests, int Tags);

/// <summary>
/// Soft-deleted content (ACR's soft-delete policy): manifests and tags that a delete kept, invisible to the data plane and
/// its listings, until they are restored or purged. The deletes themselves are <see cref="IMetadataStore"/>'s and
/// <see cref="IRepositoryDetailsStore"/>'s, with <c>softDelete</c>.
/// </summary>
public interface IDeletedContentStore
{
    /// <summary>Repositories holding soft-deleted manifests or tags, in name order after <paramref name="last"/>.</summary>
    Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, int limit, string? last, CancellationToken cancellationToken);

    /// <summary>Soft-deleted manifests in the order they were deleted, after sequence <paramref name="after"/>.</summary>
    Task<IReadOnlyList<DeletedManifest>> ListManifestsAsync(RepositoryKey repository, int limit, long after, CancellationToken cancellationToken);

    /// <summary>Soft-deleted tags in the order they were deleted, after sequence <paramref name="after"/>.</summary>
    Task<IReadOnlyList<DeletedTag>> ListTagsAsync(RepositoryKey repository, int limit, long after, CancellationToken cancellationToken);

    /// <summary>
    /// Brings a soft-deleted manifest back (a present one stays as it is) and, when <paramref name="tag"/> is given, points
    /// the tag at it, in one transaction. A tag pointing at another manifest is moved only when <paramref name="force"/>.
    /// </summary>
    Task<RestoreOutcome> RestoreAsync(RepositoryKey repository, Digest digest, string? tag, bool force, CancellationToken cancellationToken);

    /// <summary>
    /// Removes the registry's content soft-deleted before <paramref name="deletedBefore"/> for good, with the references
    /// that kept its blobs (garbage collection then sweeps the blobs), and the blob links of a repository that is left
    /// with nothing. A dry run only reports.
    /// </summary>
    Task<PurgedContent> PurgeAsync(string registry, DateTimeOffset deletedBefore, bool dryRun, CancellationToken cancellationToken);
}
