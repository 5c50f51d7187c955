using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Core.Maintenance;

/// <summary>
/// Online mark-and-sweep. Per registry it first purges content soft-deleted longer ago than the registry's soft-delete
/// retention. Per repository it marks what tags (and, with untagged deletion off, every manifest) keep alive, besides
/// untagged manifests the registry's retention policy keeps, and sweeps the rest: untagged manifests, then blob links
/// no remaining manifest references. Then, across
/// the whole server, it removes blob bytes no repository links and abandoned upload sessions.
/// Safety against concurrent pushes does not come from a lock: every delete is conditional and re-checks in the
/// store's own transaction that its target is still garbage and older than the grace period (see
/// <see cref="IMetadataStore.DeleteBlobLinkIfUnreferencedAsync"/> and <see cref="IBlobStore.DeleteIfUnmodifiedSinceAsync"/>).
/// </summary>
public sealed partial class GarbageCollector(
    IMetadataStore metadata,
    IBlobStore blobs,
    IRegistryStore registries,
    IDeletedContentStore deleted,
    IOptions<GarbageCollectionOptions> options,
    TimeProvider time,
    ILogger<GarbageCollector> logger)
{
    private readonly IMetadataStore _metadata = metadata;
    private readonly IBlobStore _blobs = blobs;
    private readonly IRegistryStore _registries = registries;
    private readonly IDeletedContentStore _deleted = deleted;
    private readonly GarbageCollectionOptions _options = options.Value;

    public const int ItemListLimit = 1000;
    private const int PageSize = 500;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    /// <summary>Collects garbage of <paramref name="registry"/> (every registry when null); blob bytes and uploads are always server-wide.</summary>
    public async Task<GarbageCollectionReport> RunAsync(string? registry, bool dryRun, CancellationToken cancellationToken)
    {
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            // One collection at a time across all nodes sharing the metadata store. A dry run deletes nothing, so it
            // needs no lease and may run beside a real one.
            await using var lease = dryRun ? null : await _metadata.TryAcquireMaintenanceLeaseAsync(cancellationToken);
            if (!dryRun && lease is null)
            {
                LogSkipped(logger);
                return GarbageCollectionReport.SkippedRun(registry, time.GetUtcNow(), AnotherNodeCollecting);
            }
            var run = new Run(this, dryRun, time.GetUtcNow());
            var targets = registry is null
                ? (await _registries.ListAsync(cancellationToken)).Select(r => (r.Name, LifecyclePolicies.Of(r))).ToList()
                : [(registry.ToLowerInvariant(), await _registries.GetOrNullAsync(registry.ToLowerInvariant(), cancellationToken) is { } found
                    ? LifecyclePolicies.Of(found) : LifecyclePolicies.Disabled)];
            foreach (var (name, policies) in targets) await run.CollectRegistryAsync(name, policies, cancellationToken);
            await run.CollectBlobsAsync(cancellationToken);
            await run.CollectUploadsAsync(cancellationToken);
            var report = run.Report(registry);
            LogCollected(logger, report.Summary);
            return report;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>
    /// Manifests that stay: tagged ones, locked ones (image locking: <c>deleteEnabled=false</c> or <c>writeEnabled=false</c>
    /// on the manifest or its repository), those younger than the grace period, every one when untagged deletion is off
    /// (except those the retention policy expires), and, transitively, the children of a staying index and the referrers
    /// of a staying subject.
    /// </summary>
    internal static HashSet<Digest> Mark(IReadOnlyList<ManifestNode> manifests, bool deleteUntagged, DateTimeOffset cutoff, RetentionWindow? retention = null)
    {
        var byDigest = manifests.ToDictionary(m => m.Digest);
        var referrers = manifests.Where(m => m.Subject is not null).ToLookup(m => m.Subject!.Value);
        bool Collectable(ManifestNode m) => !m.Tagged && !m.Locked
            && ((deleteUntagged && m.CreatedAt < cutoff) || (retention?.Expires(m) == true && !referrers[m.Digest].Any()));
        var live = new HashSet<Digest>();
        var pending = new Stack<Digest>(manifests.Where(m => !Collectable(m)).Select(m => m.Digest));
        while (pending.TryPop(out var digest))
        {
            if (!live.Add(digest)) continue;
            foreach (var child in byDigest[digest].ManifestReferences)
                if (byDigest.ContainsKey(child)) pending.Push(child);
            foreach (var referrer in referrers[digest]) pending.Push(referrer.Digest);
        }
        return live;
    }

    private sealed class Run(GarbageCollector owner, bool dryRun, DateTimeOffset startedAt)
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly DateTimeOffset _cutoff = startedAt - owner._options.GracePeriod;
        private readonly List<CollectedManifest> _manifests = [];
        private readonly List<CollectedBlobLink> _links = [];
        private readonly List<CollectedBlob> _blobs = [];
        private readonly List<CollectedUpload> _uploads = [];
        private int _manifestCount, _linkCount, _blobCount, _uploadCount, _purgedManifests, _purgedTags;
        private long _blobBytes, _uploadBytes;
        private int _heldManifests, _heldLinks, _heldBlobs;
        private long _heldBlobBytes;
        private DateTimeOffset _heldUntil = DateTimeOffset.MinValue;

        /// <summary>Garbage spared only because it is younger than the grace period: counted, with when it stops being protected.</summary>
        private void Hold(DateTimeOffset createdAt, ref int count)
        {
            count++;
            var until = createdAt + owner._options.GracePeriod;
            if (until > _heldUntil) _heldUntil = until;
        }

        /// <summary>In a dry run nothing is deleted, so the byte sweep must know which links the run would have removed.</summary>
        private readonly HashSet<(string Registry, string Repository, Digest Digest)> _linksGone = [];

        public async Task CollectRegistryAsync(string registry, LifecyclePolicies policies, CancellationToken cancellationToken)
        {
            // Soft-deleted content is purged by the retention in force now, even when soft delete has been switched off
            // since (as ACR does), and before the sweep, so that the blobs it held go in this same run.
            var purged = await owner._deleted.PurgeAsync(registry, policies.SoftDelete.PurgeBefore(startedAt), dryRun, cancellationToken);
            _purgedManifests += purged.Manifests.Count;
            _purgedTags += purged.Tags;
            var retention = policies.Retention.Enabled
                ? new RetentionWindow(policies.Retention.EnabledSince, startedAt - TimeSpan.FromDays(policies.Retention.Days))
                : (RetentionWindow?)null;
            string? last = null;
            while (true)
            {
                var page = await owner._metadata.ListRepositoriesAsync(registry, PageSize, last, cancellationToken);
                foreach (var name in page) await CollectRepositoryAsync(new RepositoryKey(registry, name), retention, cancellationToken);
                if (page.Count < PageSize) return;
                last = page[^1];
            }
        }

        private async Task CollectRepositoryAsync(RepositoryKey repository, RetentionWindow? retention, CancellationToken cancellationToken)
        {
            var content = await owner._metadata.GetRepositoryContentAsync(repository, cancellationToken);
            var live = Mark(content.Manifests, owner._options.DeleteUntaggedManifests, _cutoff, retention);
            if (owner._options.DeleteUntaggedManifests)
            {
                // What reachability alone would leave: the difference is what the grace period spares.
                var reachable = Mark(content.Manifests, deleteUntagged: true, DateTimeOffset.MaxValue, retention);
                foreach (var manifest in content.Manifests.Where(m => live.Contains(m.Digest) && !reachable.Contains(m.Digest)))
                    Hold(manifest.CreatedAt, ref _heldManifests);
            }
            var nodes = content.Manifests.ToDictionary(m => m.Digest);

            // Sweep manifests. An index must go before its children and a subject before its referrers (the store refuses
            // otherwise), so repeat passes until one removes nothing.
            var garbage = content.Manifests.Where(m => !live.Contains(m.Digest)).Select(m => m.Digest).ToList();
            var removed = new HashSet<Digest>();
            for (var progress = true; progress && garbage.Count > removed.Count;)
            {
                progress = false;
                foreach (var digest in garbage.Where(d => !removed.Contains(d)))
                {
                    if (!dryRun && !await DeleteManifestAsync(repository, nodes[digest], retention, cancellationToken)) continue;
                    removed.Add(digest);
                    progress = true;
                    _manifestCount++;
                    Add(_manifests, new CollectedManifest(repository.Registry, repository.Name, digest.ToString()));
                }
            }

            // Sweep links: whatever a manifest still present references stays, as does any link younger than the grace period.
            var referenced = content.Manifests.Where(m => !removed.Contains(m.Digest)).SelectMany(m => m.BlobReferences).ToHashSet();
            foreach (var link in content.BlobLinks)
            {
                if (referenced.Contains(link.Digest)) continue;
                if (link.CreatedAt >= _cutoff)
                {
                    Hold(link.CreatedAt, ref _heldLinks);
                    continue;
                }
                if (!dryRun && !await owner._metadata.DeleteBlobLinkIfUnreferencedAsync(repository, link.Digest, _cutoff, cancellationToken)) continue;
                _linkCount++;
                _linksGone.Add((repository.Registry, repository.Name, link.Digest));
                Add(_links, new CollectedBlobLink(repository.Registry, repository.Name, link.Digest.ToString(), link.Size));
            }
        }

        /// <summary>The conditional delete that fits why the manifest is garbage: unused past the grace period, or expired by retention.</summary>
        private async Task<bool> DeleteManifestAsync(RepositoryKey repository, ManifestNode manifest, RetentionWindow? retention, CancellationToken cancellationToken) =>
            (owner._options.DeleteUntaggedManifests && manifest.CreatedAt < _cutoff
                && await owner._metadata.DeleteManifestIfUnusedAsync(repository, manifest.Digest, _cutoff, cancellationToken))
            || (retention is { } window && window.Expires(manifest)
                && await owner._metadata.DeleteExpiredUntaggedManifestAsync(repository, manifest.Digest, window.UntaggedFrom, window.UntaggedBefore, cancellationToken));

        public async Task CollectBlobsAsync(CancellationToken cancellationToken)
        {
            var batch = new List<StoredBlobInfo>(PageSize);
            var young = new List<StoredBlobInfo>(PageSize);
            await foreach (var blob in owner._blobs.ListBlobsAsync(cancellationToken))
            {
                if (blob.Digest is null) continue; // misplaced files are fsck's business
                var into = blob.LastModified >= _cutoff ? young : batch;
                into.Add(blob);
                if (batch.Count == PageSize) await SweepBlobsAsync(batch, cancellationToken);
                if (young.Count == PageSize) await CountHeldBlobsAsync(young, cancellationToken);
            }
            await SweepBlobsAsync(batch, cancellationToken);
            await CountHeldBlobsAsync(young, cancellationToken);
        }

        /// <summary>Blobs too young to delete: those no repository links are garbage the grace period holds back.</summary>
        private async Task CountHeldBlobsAsync(List<StoredBlobInfo> young, CancellationToken cancellationToken)
        {
            foreach (var blob in await UnlinkedAsync(young, cancellationToken))
            {
                Hold(blob.LastModified, ref _heldBlobs);
                _heldBlobBytes += blob.Size;
            }
            young.Clear();
        }

        /// <summary>The blobs of <paramref name="batch"/> no repository links (in a dry run, none but links this run would remove).</summary>
        private async Task<List<StoredBlobInfo>> UnlinkedAsync(List<StoredBlobInfo> batch, CancellationToken cancellationToken)
        {
            var unlinked = new List<StoredBlobInfo>();
            if (batch.Count == 0) return unlinked;
            var linked = (await owner._metadata.FindLinkedBlobsAsync(batch.Select(b => b.Digest!.Value).ToList(), cancellationToken)).ToHashSet();
            foreach (var blob in batch)
            {
                var digest = blob.Digest!.Value;
                if (!linked.Contains(digest) || (dryRun && await OnlyLinksThisRunRemovesAsync(digest, cancellationToken))) unlinked.Add(blob);
            }
            return unlinked;
        }

        private async Task SweepBlobsAsync(List<StoredBlobInfo> batch, CancellationToken cancellationToken)
        {
            foreach (var blob in await UnlinkedAsync(batch, cancellationToken))
            {
                var digest = blob.Digest!.Value;
                // Deleting bytes re-checks the links first: a mount or push may have linked the blob since the batch query.
                // A link written after this check is safe too: every link is followed by a refresh of the blob
                // (BlobLinking), so the conditional delete below either keeps the blob or happened first, and then the
                // refresh fails and the link is withdrawn.
                if (!dryRun && ((await owner._metadata.FindLinkedBlobsAsync([digest], cancellationToken)).Count > 0
                    || !await owner._blobs.DeleteIfUnmodifiedSinceAsync(digest, _cutoff, cancellationToken))) continue;
                _blobCount++;
                _blobBytes += blob.Size;
                Add(_blobs, new CollectedBlob(digest.ToString(), blob.Size));
            }
            batch.Clear();
        }

        private async Task<bool> OnlyLinksThisRunRemovesAsync(Digest digest, CancellationToken cancellationToken)
        {
            if (!_linksGone.Any(l => l.Digest == digest)) return false;
            foreach (var registry in await owner._registries.ListAsync(cancellationToken))
            {
                foreach (var repository in await owner._metadata.ListRepositoriesLinkingBlobAsync(registry.Name, digest, int.MaxValue, cancellationToken))
                    if (!_linksGone.Contains((registry.Name, repository, digest))) return false;
            }
            return true;
        }

        public async Task CollectUploadsAsync(CancellationToken cancellationToken)
        {
            var expiredBefore = startedAt - owner._options.UploadExpiry;
            var gone = new HashSet<string>();
            while (true)
            {
                var page = (await owner._metadata.ListUploadsStartedBeforeAsync(expiredBefore, PageSize, cancellationToken)).Where(u => !gone.Contains(u.Id)).ToList();
                foreach (var upload in page)
                {
                    var size = await owner._blobs.GetUploadSizeOrNullAsync(upload.Id, cancellationToken) ?? 0;
                    if (!dryRun)
                    {
                        await owner._metadata.DeleteUploadAsync(upload.Id, cancellationToken);
                        await owner._blobs.DeleteUploadAsync(upload.Id, cancellationToken);
                    }
                    gone.Add(upload.Id);
                    AddUpload(new CollectedUpload(upload.Id, upload.Repository.Registry, upload.Repository.Name, size, Orphaned: false));
                }
                if (page.Count == 0 || dryRun) break;
            }

            // Upload bytes without a session: a crash between creating the upload area and its metadata, or after the
            // metadata was removed. Their last write must also be older than the expiry, so a starting upload is safe.
            await foreach (var upload in owner._blobs.ListUploadsAsync(cancellationToken))
            {
                if (upload.LastModified >= expiredBefore || gone.Contains(upload.Id)) continue;
                if (await owner._metadata.GetUploadOrNullAsync(upload.Id, cancellationToken) is not null) continue;
                if (!dryRun) await owner._blobs.DeleteUploadAsync(upload.Id, cancellationToken);
                AddUpload(new CollectedUpload(upload.Id, null, null, upload.Size, Orphaned: true));
            }
        }

        private void AddUpload(CollectedUpload upload)
        {
            _uploadCount++;
            _uploadBytes += upload.Size;
            Add(_uploads, upload);
        }

        private static void Add<T>(List<T> list, T item)
        {
            if (list.Count < ItemListLimit) list.Add(item);
        }

        public GarbageCollectionReport Report(string? registry) => new(
            dryRun, registry, startedAt, Stopwatch.GetElapsedTime(_started).TotalSeconds,
            _manifestCount, _linkCount, _blobCount, _blobBytes, _uploadCount, _uploadBytes,
            _manifests, _links, _blobs, _uploads)
        {
            HeldByGracePeriod = _heldManifests + _heldLinks + _heldBlobs == 0 ? null
                : new GracePeriodHold(_heldManifests, _heldLinks, _heldBlobs, _heldBlobBytes, _heldUntil, owner._options.GracePeriod),
            SoftDeletedManifestsPurged = _purgedManifests,
            SoftDeletedTagsPurged = _purgedTags,
        };
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Garbage collection {Summary}")]
    private static partial void LogCollected(ILogger logger, string summary);

    public const string AnotherNodeCollecting = "another node is collecting garbage (it holds the maintenance lease)";

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Garbage collection skipped: " + AnotherNodeCollecting)]
    private static partial void LogSkipped(ILogger logger);
}

/// <summary>The retention policy as one collection applies it: manifests untagged in [<see cref="UntaggedFrom"/>, <see cref="UntaggedBefore"/>) expire.</summary>
internal readonly record struct RetentionWindow(DateTimeOffset UntaggedFrom, DateTimeOffset UntaggedBefore)
{
    public bool Expires(ManifestNode manifest) => manifest.UntaggedAt is { } at && at >= UntaggedFrom && at < UntaggedBefore;
}
