namespace Berth.Core.Maintenance;

public sealed record CollectedManifest(string Registry, string Repository, string Digest);

public sealed record CollectedBlobLink(string Registry, string Repository, string Digest, long Size);

public sealed record CollectedBlob(string Digest, long Size);

public sealed record CollectedUpload(string Id, string? Registry, string? Repository, long Size, bool Orphaned);

/// <summary>
/// Garbage the grace period still protects: unreferenced content younger than <see cref="GracePeriod"/> (so pushes in
/// flight never lose a blob). A later run removes it once <see cref="Until"/> has passed, unless something uses it again.
/// </summary>
public sealed record GracePeriodHold(int Manifests, int BlobLinks, int Blobs, long BlobBytes, DateTimeOffset Until, TimeSpan GracePeriod);

/// <summary>
/// What one collection removed (or, in a dry run, would remove). Item lists stop at <see cref="GarbageCollector.ItemListLimit"/>
/// entries each; the counts and byte totals are always complete.
/// </summary>
public sealed record GarbageCollectionReport(
    bool DryRun,
    string? Registry,
    DateTimeOffset StartedAt,
    double DurationSeconds,
    int ManifestsRemoved,
    int BlobLinksRemoved,
    int BlobsRemoved,
    long BlobBytesRemoved,
    int UploadsRemoved,
    long UploadBytesRemoved,
    IReadOnlyList<CollectedManifest> Manifests,
    IReadOnlyList<CollectedBlobLink> BlobLinks,
    IReadOnlyList<CollectedBlob> Blobs,
    IReadOnlyList<CollectedUpload> Uploads)
{
    /// <summary>Why nothing was collected, when the run did not start (another node held the maintenance lease).</summary>
    public string? Skipped { get; init; }

    /// <summary>Garbage left for a later run because it is younger than the grace period; null when there is none.</summary>
    public GracePeriodHold? HeldByGracePeriod { get; init; }

    /// <summary>Soft-deleted manifests whose retention ran out, removed for good (not counted in <see cref="ManifestsRemoved"/>).</summary>
    public int SoftDeletedManifestsPurged { get; init; }

    /// <summary>Soft-deleted tags whose retention ran out, removed for good.</summary>
    public int SoftDeletedTagsPurged { get; init; }

    public string Summary => Skipped is not null
        ? "skipped: " + Skipped
        : $"{(DryRun ? "would remove" : "removed")} {ManifestsRemoved} manifest(s), {BlobLinksRemoved} blob link(s), " +
          (SoftDeletedManifestsPurged + SoftDeletedTagsPurged > 0 ? $"purged {SoftDeletedManifestsPurged} soft-deleted manifest(s) and {SoftDeletedTagsPurged} tag(s), " : "") +
          $"{BlobsRemoved} blob(s) ({BlobBytesRemoved} bytes), {UploadsRemoved} upload(s) ({UploadBytesRemoved} bytes) in {DurationSeconds:F2} s" +
          (HeldByGracePeriod is { } held
              ? $"; the grace period ({held.GracePeriod}) holds back {held.Manifests} manifest(s), {held.BlobLinks} blob link(s) and " +
                $"{held.Blobs} blob(s) ({held.BlobBytes} bytes) until {held.Until:yyyy-MM-ddTHH:mm:ssZ}"
              : "");

    public static GarbageCollectionReport SkippedRun(string? registry, DateTimeOffset startedAt, string reason) =>
        new(false, registry, startedAt, 0, 0, 0, 0, 0, 0, 0, [], [], [], []) { Skipped = reason };
}
