using Berth.Core.Content;
using Berth.Core.Webhooks;

namespace Berth.Core.Storage;

/// <summary>A repository inside one registry of this server.</summary>
public readonly record struct RepositoryKey(string Registry, string Name)
{
    public override string ToString() => $"{Registry}/{Name}";
}

/// <summary>A manifest as pushed: its exact bytes plus what was read from them at push time.</summary>
public sealed record StoredManifest(
    Digest Digest,
    string MediaType,
    byte[] Content,
    string? ArtifactType,
    Digest? Subject,
    string? AnnotationsJson,
    DateTimeOffset CreatedAt);

/// <summary>A referrer's descriptor fields, without the manifest bytes.</summary>
public sealed record ReferrerRecord(Digest Digest, string MediaType, long Size, string? ArtifactType, string? AnnotationsJson);

public sealed record UploadSession(string Id, RepositoryKey Repository, DateTimeOffset StartedAt);

/// <summary>
/// What a manifest PUT writes, applied in one transaction; <see cref="Request"/> is named in its webhook events.
/// <see cref="ReferencesMayBeAbsent"/> is set for a manifest kept from a cache rule's upstream, whose blobs and child
/// manifests arrive later, when first pulled.
/// </summary>
public sealed record ManifestWrite(
    StoredManifest Manifest,
    IReadOnlyList<Digest> BlobReferences,
    IReadOnlyList<Digest> ManifestReferences,
    string? Tag,
    EventRequest? Request = null,
    bool ReferencesMayBeAbsent = false);

/// <summary>
/// A manifest of a repository as garbage collection sees it: whether a tag holds it, whether it or its repository is
/// locked against deletion (<c>deleteEnabled=false</c> or <c>writeEnabled=false</c>), what it points at, and since when
/// it has been without a tag after having had one (<see cref="UntaggedAt"/>, which the retention policy counts from).
/// </summary>
public sealed record ManifestNode(
    Digest Digest,
    DateTimeOffset CreatedAt,
    bool Tagged,
    Digest? Subject,
    IReadOnlyList<Digest> ManifestReferences,
    IReadOnlyList<Digest> BlobReferences,
    bool Locked = false,
    DateTimeOffset? UntaggedAt = null);

/// <summary>A repository, tag or manifest whose changeable attributes forbid deleting it (image locking).</summary>
public sealed record LockedContent(AttributeTarget Target, string Key, bool DeleteEnabled, bool WriteEnabled);

/// <summary>
/// The outcome of a delete that locks can refuse. The store checks the locks in the delete's own transaction, so a lock
/// set concurrently is either seen or set after the delete (and then finds nothing). When <see cref="Locked"/> is not
/// empty nothing was deleted.
/// </summary>
public sealed record ContentDeletion(bool Found, IReadOnlyList<LockedContent> Locked)
{
    public static ContentDeletion Deleted { get; } = new(true, []);
    public static ContentDeletion NotFound { get; } = new(false, []);
}

/// <summary>
/// The outcome of a repository delete: what went or, when <see cref="Locked"/> is not empty, the locked content that
/// kept the whole repository (nothing was deleted).
/// </summary>
public sealed record RepositoryDeletion(IReadOnlyList<string> Manifests, IReadOnlyList<string> Tags, IReadOnlyList<LockedContent> Locked);

/// <summary>A blob linked into a repository, with the time the link was made.</summary>
public sealed record BlobLinkInfo(Digest Digest, long Size, DateTimeOffset CreatedAt);

/// <summary>A consistent read of one repository's manifests and blob links.</summary>
public sealed record RepositoryContent(IReadOnlyList<ManifestNode> Manifests, IReadOnlyList<BlobLinkInfo> BlobLinks);

/// <summary>
/// Repositories, tags, manifests, blob links, referrers and upload sessions. Every write is atomic:
/// a failure leaves the previous state visible and nothing half-written.
/// </summary>
public interface IMetadataStore
{
    Task<bool> IsReadyAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The maintenance lease: held by at most one garbage collection among all nodes that share this store, until it is
    /// disposed (or its holder dies). Null when someone else holds it. Pushes do not take it; collection is safe against
    /// them through its conditional deletes, but two collections at once would only duplicate work and muddle reports.
    /// </summary>
    Task<IAsyncDisposable?> TryAcquireMaintenanceLeaseAsync(CancellationToken cancellationToken);

    Task<long?> GetLinkedBlobSizeOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken);

    /// <summary>
    /// The bytes the registry's content takes: every blob its repositories link, counted once however many link it,
    /// plus its manifests. Storage shared with other registries is counted for each of them, as each would pay for it.
    /// </summary>
    Task<long> GetRegistrySizeAsync(string registry, CancellationToken cancellationToken);

    /// <summary>Repositories of the registry that link the blob, in name order, at most <paramref name="limit"/> (for mounts without <c>from</c>).</summary>
    Task<IReadOnlyList<string>> ListRepositoriesLinkingBlobAsync(string registry, Digest digest, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Links a verified blob into a repository, creating the repository if needed. Linking again renews the link's
    /// creation time, so a blob pushed again is as safe from garbage collection for the grace period as a new one.
    /// </summary>
    Task LinkBlobAsync(RepositoryKey repository, Digest digest, long size, CancellationToken cancellationToken);

    /// <summary>Removes a link whatever it holds up (the undo of a link whose bytes turned out to be gone).</summary>
    Task<bool> UnlinkBlobAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken);

    /// <summary>
    /// A client's blob delete: removes the link unless locked content needs the blob, that is the repository is locked
    /// or a locked manifest (or a manifest under a locked tag) references it, directly or through an index.
    /// </summary>
    Task<ContentDeletion> DeleteBlobLinkAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken);

    /// <summary>Of <paramref name="digests"/>, those not linked into the repository.</summary>
    Task<IReadOnlyList<Digest>> FindUnlinkedBlobsAsync(RepositoryKey repository, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken);

    /// <summary>Of <paramref name="digests"/>, those that are not manifests in the repository.</summary>
    Task<IReadOnlyList<Digest>> FindMissingManifestsAsync(RepositoryKey repository, IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken);

    Task<StoredManifest?> GetManifestOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken);

    Task<Digest?> GetTagOrNullAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the manifest (and tag) and, in the same transaction, a <c>push</c> event for every webhook of the registry
    /// that takes it (<see cref="IWebhookStore"/>'s outbox).
    /// </summary>
    Task PutManifestAsync(RepositoryKey repository, ManifestWrite write, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a manifest and every tag that points at it, unless (checked in the same transaction) the repository, the
    /// manifest or one of those tags is locked; then it deletes nothing and names what is locked. With
    /// <paramref name="softDelete"/> the manifest and its tags are kept as deleted (see <see cref="IDeletedContentStore"/>),
    /// and so are the references that keep its blobs and children, until they are restored or purged. What it deletes
    /// fires a <c>delete</c> event, written in the same transaction, for <paramref name="request"/>.
    /// </summary>
    Task<ContentDeletion> DeleteManifestAsync(RepositoryKey repository, Digest digest, bool softDelete, EventRequest? request, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes a tag unless (checked in the same transaction) the repository or the tag is locked; with
    /// <paramref name="softDelete"/> it is kept as deleted. A manifest left without tags is marked untagged from now.
    /// A deleted tag fires a <c>delete</c> event naming it, written in the same transaction.
    /// </summary>
    Task<ContentDeletion> DeleteTagAsync(RepositoryKey repository, string tag, bool softDelete, EventRequest? request, CancellationToken cancellationToken);

    /// <summary>Tags in lexical order after <paramref name="last"/>, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<string>> ListTagsAsync(RepositoryKey repository, int limit, string? last, CancellationToken cancellationToken);

    Task<bool> RepositoryExistsAsync(RepositoryKey repository, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, int limit, string? last, CancellationToken cancellationToken);

    Task<IReadOnlyList<ReferrerRecord>> ListReferrersAsync(RepositoryKey repository, Digest subject, CancellationToken cancellationToken);

    Task CreateUploadAsync(UploadSession session, CancellationToken cancellationToken);

    Task<UploadSession?> GetUploadOrNullAsync(string uploadId, CancellationToken cancellationToken);

    Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>
    /// Removes everything a registry holds (repositories, tags, manifests, references, blob links, upload sessions)
    /// in one transaction, when the registry itself is deleted. Blob bytes are left to garbage collection.
    /// </summary>
    Task DeleteRegistryContentAsync(string registry, CancellationToken cancellationToken);

    // Maintenance (garbage collection). Garbage collection marks from a RepositoryContent snapshot and then deletes
    // each candidate with one of the conditional deletes below, which re-check in the store's own transaction that the
    // candidate is still garbage, so a push that lands between the snapshot and the delete is never lost.
    // PutManifestAsync, in turn, must re-check in its transaction that every referenced blob is still linked and every
    // referenced manifest still present, so a delete that lands between ManifestService's checks and the write is seen.

    /// <summary>
    /// All manifests (with tags and references) and blob links of the repository, read in one transaction. Links that a
    /// soft-deleted manifest references are left out: they are kept for a restore until the manifest is purged.
    /// </summary>
    Task<RepositoryContent> GetRepositoryContentAsync(RepositoryKey repository, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes an untagged manifest if, in one transaction, it was created before <paramref name="createdBefore"/>, no tag
    /// points at it, no manifest of the repository references it (an index) and its subject, if it has one, is not a
    /// manifest of the repository (referrers of a present manifest stay), and neither it nor the repository is locked
    /// (<c>deleteEnabled=false</c> or <c>writeEnabled=false</c>). Removes its references and attributes too.
    /// </summary>
    Task<bool> DeleteManifestIfUnusedAsync(RepositoryKey repository, Digest digest, DateTimeOffset createdBefore, CancellationToken cancellationToken);

    /// <summary>
    /// The retention policy's delete: removes a manifest if, in one transaction, it lost its last tag at or after
    /// <paramref name="untaggedFrom"/> and before <paramref name="untaggedBefore"/>, is still untagged, no manifest of the
    /// repository references it (an index) or names it as subject (a referrer), and neither it nor the repository is locked.
    /// </summary>
    Task<bool> DeleteExpiredUntaggedManifestAsync(RepositoryKey repository, Digest digest, DateTimeOffset untaggedFrom, DateTimeOffset untaggedBefore,
        CancellationToken cancellationToken);

    /// <summary>Deletes a blob link if, in one transaction, it was made before <paramref name="createdBefore"/> and no manifest of the repository references the blob.</summary>
    Task<bool> DeleteBlobLinkIfUnreferencedAsync(RepositoryKey repository, Digest digest, DateTimeOffset createdBefore, CancellationToken cancellationToken);

    /// <summary>Of <paramref name="digests"/>, those some repository of any registry links.</summary>
    Task<IReadOnlyList<Digest>> FindLinkedBlobsAsync(IReadOnlyCollection<Digest> digests, CancellationToken cancellationToken);

    /// <summary>Upload sessions (of every registry) started before <paramref name="startedBefore"/>, oldest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<UploadSession>> ListUploadsStartedBeforeAsync(DateTimeOffset startedBefore, int limit, CancellationToken cancellationToken);
}
