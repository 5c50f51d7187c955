using Berth.Core.Content;
using System.Text;
using Berth.Core.Maintenance;
using Berth.Core.Storage;
using Berth.Oci;
using Xunit.Abstractions;

namespace Berth.Core.Tests.Maintenance;

/// <summary>
/// Garbage collection on a store with known garbage: the exact items that must go and the ones that must stay.
/// The store (<see cref="KnownGarbage"/>) is built at the clock's start; tests then move the clock past the grace period.
/// </summary>
public sealed class GarbageCollectorTests(ITestOutputHelper output)
{
    private static readonly RepositoryKey App = ContentFixture.Repo("app");
    private static readonly RepositoryKey Other = ContentFixture.Repo("other");

    /// <summary>What the known-garbage store holds, by role.</summary>
    private sealed class KnownGarbage
    {
        public Digest V1, V2, V3, Index, ChildA, ChildB, Signature, OrphanReferrer;
        public Descriptor C2 = null!, L3 = null!, Unreferenced = null!, Shared = null!, L1 = null!, Empty = null!;
        public Digest CrashedBlob;
        public long CrashedBlobSize;
        public string ExpiredUpload = null!, OrphanUploadFile = null!;
        public long ExpiredUploadSize, OrphanUploadSize;
        public string FreshUpload = null!;
        public Descriptor Fresh = null!;
    }

    private static async Task<KnownGarbage> BuildAsync(ContentFixture f)
    {
        var g = new KnownGarbage();
        g.V1 = await f.PushImageAsync(App, "v1", "config-1", "layer-1", "layer-2");
        g.L1 = new Descriptor("application/vnd.oci.image.layer.v1.tar", Digest.Compute(Encoding.UTF8.GetBytes("layer-1")), 7);
        // v2 held "latest" until v3 took it: v2 becomes untagged garbage with its own config and layer-3.
        g.V2 = await f.PushImageAsync(App, "latest", "config-2-is-unique", "layer-1", "layer-3-unique-to-v2");
        g.C2 = new Descriptor("", Digest.Compute(Encoding.UTF8.GetBytes("config-2-is-unique")), "config-2-is-unique".Length);
        g.L3 = new Descriptor("", Digest.Compute(Encoding.UTF8.GetBytes("layer-3-unique-to-v2")), "layer-3-unique-to-v2".Length);
        g.V3 = await f.PushImageAsync(App, "latest", "config-3", "layer-1");

        // A tagged index keeps its untagged children.
        var childA = ContentFixture.ImageManifest(await f.PushBlobAsync(App, "config-a", "application/vnd.oci.image.config.v1+json"), [await f.PushBlobAsync(App, "layer-a")]);
        var childB = ContentFixture.ImageManifest(await f.PushBlobAsync(App, "config-b", "application/vnd.oci.image.config.v1+json"), [await f.PushBlobAsync(App, "layer-b")]);
        g.ChildA = await f.PushManifestAsync(App, null, childA);
        g.ChildB = await f.PushManifestAsync(App, null, childB);
        g.Index = await f.PushManifestAsync(App, "multi", ContentFixture.Index(Descriptor.Of(childA), Descriptor.Of(childB)));

        // Referrers: one of live v1 (stays), one of v2 (goes with its subject). Both use the empty config blob.
        g.Empty = await f.PushBlobAsync(App, "{}", "application/vnd.oci.empty.v1+json");
        g.Signature = await f.PushManifestAsync(App, null, ContentFixture.ImageManifest(g.Empty, [await f.PushBlobAsync(App, "signature-of-v1")],
            new Descriptor("application/vnd.oci.image.manifest.v1+json", g.V1, (await f.Metadata.GetManifestOrNullAsync(App, g.V1, default))!.Content.Length), "application/example.signature"));
        var v2Size = (await f.Metadata.GetManifestOrNullAsync(App, g.V2, default))!.Content.Length;
        var sbomLayer = await f.PushBlobAsync(App, "signature-of-v1"); // same bytes: the link already exists and stays referenced
        g.OrphanReferrer = await f.PushManifestAsync(App, null, ContentFixture.ImageManifest(g.Empty, [sbomLayer],
            new Descriptor("application/vnd.oci.image.manifest.v1+json", g.V2, v2Size), "application/example.signature"));

        // A blob pushed and never used, and one used by another repository only.
        g.Unreferenced = await f.PushBlobAsync(App, "pushed-but-never-referenced");
        g.Shared = await f.PushBlobAsync(App, "shared-layer");
        await f.PushImageAsync(Other, "v1", "config-other", "shared-layer");

        // Bytes committed without a link (a crash between commit and link).
        var crashed = Encoding.UTF8.GetBytes("committed-but-never-linked");
        g.CrashedBlob = Digest.Compute(crashed);
        g.CrashedBlobSize = crashed.Length;
        var crashUpload = Guid.NewGuid().ToString("N");
        await f.Blobs.CreateUploadAsync(crashUpload, default);
        await using (var stream = (await f.Blobs.OpenUploadForAppendOrNullAsync(crashUpload, default))!) await stream.WriteAsync(crashed);
        await f.Blobs.CommitUploadAsync(crashUpload, g.CrashedBlob, default);

        // An abandoned upload session with bytes, and an upload area whose session metadata is gone.
        var expired = await f.Uploads.StartAsync(App, default);
        g.ExpiredUpload = expired.Id;
        g.ExpiredUploadSize = await f.Uploads.AppendAsync(App, expired.Id, new MemoryStream(new byte[1000]), new Berth.Core.Content.ChunkRange(null, null, null), default);
        g.OrphanUploadFile = Guid.NewGuid().ToString("N");
        await f.Blobs.CreateUploadAsync(g.OrphanUploadFile, default);
        await using (var stream = (await f.Blobs.OpenUploadForAppendOrNullAsync(g.OrphanUploadFile, default))!) await stream.WriteAsync(new byte[500]);
        g.OrphanUploadSize = 500;
        return g;
    }

    /// <summary>Things pushed after the clock moved: younger than the grace period, whatever references them.</summary>
    private static async Task AddFreshAsync(ContentFixture f, KnownGarbage g)
    {
        g.Fresh = await f.PushBlobAsync(App, "uploaded-for-a-manifest-still-on-its-way");
        g.FreshUpload = (await f.Uploads.StartAsync(App, default)).Id;
    }

    [Fact]
    public async Task KnownGarbage_RemovesExactlyTheGarbage()
    {
        using var f = new ContentFixture();
        var g = await BuildAsync(f);
        f.Time.Advance(TimeSpan.FromHours(2));
        await AddFreshAsync(f, g);

        var report = await f.Collector.RunAsync(null, dryRun: false, default);
        output.WriteLine($"known-garbage store: {report.Summary}");

        Assert.Equal([g.V2.ToString(), g.OrphanReferrer.ToString()], report.Manifests.Select(m => m.Digest).Order());
        Assert.Equal(new[] { g.C2.Digest, g.L3.Digest, g.Unreferenced.Digest, g.Shared.Digest }.Select(d => d.ToString()).Order(),
            report.BlobLinks.Select(l => l.Digest).Order());
        Assert.All(report.BlobLinks, l => Assert.Equal(("myregistry", "app"), (l.Registry, l.Repository)));
        Assert.Equal(new[] { g.C2.Digest, g.L3.Digest, g.Unreferenced.Digest, g.CrashedBlob }.Select(d => d.ToString()).Order(),
            report.Blobs.Select(b => b.Digest).Order());
        Assert.Equal(g.C2.Size + g.L3.Size + g.Unreferenced.Size + g.CrashedBlobSize, report.BlobBytesRemoved);
        Assert.Equal(new[] { g.ExpiredUpload, g.OrphanUploadFile }.Order(), report.Uploads.Select(u => u.Id).Order());
        Assert.Equal(g.ExpiredUploadSize + g.OrphanUploadSize, report.UploadBytesRemoved);
        Assert.Equal((2, 4, 4, 2), (report.ManifestsRemoved, report.BlobLinksRemoved, report.BlobsRemoved, report.UploadsRemoved));

        // Gone from the stores.
        Assert.False(await f.ManifestExistsAsync(App, g.V2));
        Assert.False(await f.ManifestExistsAsync(App, g.OrphanReferrer));
        foreach (var gone in new[] { g.C2.Digest, g.L3.Digest, g.Unreferenced.Digest, g.CrashedBlob }) Assert.False(await f.BlobBytesExistAsync(gone));
        Assert.Null(await f.Metadata.GetUploadOrNullAsync(g.ExpiredUpload, default));
        Assert.Null(await f.Blobs.GetUploadSizeOrNullAsync(g.ExpiredUpload, default));
        Assert.Null(await f.Blobs.GetUploadSizeOrNullAsync(g.OrphanUploadFile, default));

        // Kept: tagged images, the index and its untagged children, the referrer of a live manifest, shared and fresh things.
        foreach (var kept in new[] { g.V1, g.V3, g.Index, g.ChildA, g.ChildB, g.Signature }) Assert.True(await f.ManifestExistsAsync(App, kept));
        Assert.True(await f.LinkedAsync(App, g.L1.Digest));
        Assert.True(await f.LinkedAsync(App, g.Empty.Digest));
        Assert.True(await f.LinkedAsync(Other, g.Shared.Digest));
        Assert.True(await f.BlobBytesExistAsync(g.Shared.Digest));
        Assert.True(await f.LinkedAsync(App, g.Fresh.Digest));
        Assert.True(await f.BlobBytesExistAsync(g.Fresh.Digest));
        Assert.NotNull(await f.Metadata.GetUploadOrNullAsync(g.FreshUpload, default));
        Assert.Equal("latest", (await f.Metadata.ListTagsAsync(App, 10, null, default)).Single(t => t == "latest"));
        Assert.Equal(g.V3, await f.Metadata.GetTagOrNullAsync(App, "latest", default));

        // What is left is consistent, and a second run finds nothing.
        Assert.True((await f.Checker.CheckAsync(quarantine: false, default)).Healthy);
        var again = await f.Collector.RunAsync(null, dryRun: false, default);
        Assert.Equal((0, 0, 0, 0), (again.ManifestsRemoved, again.BlobLinksRemoved, again.BlobsRemoved, again.UploadsRemoved));
    }

    [Fact]
    public async Task DryRun_ReportsTheSameAsARealRun_AndRemovesNothing()
    {
        using var f = new ContentFixture();
        var g = await BuildAsync(f);
        f.Time.Advance(TimeSpan.FromHours(2));

        var dry = await f.Collector.RunAsync(null, dryRun: true, default);
        output.WriteLine($"dry run: {dry.Summary}");
        Assert.True(dry.DryRun);
        Assert.True(await f.ManifestExistsAsync(App, g.V2));
        Assert.True(await f.LinkedAsync(App, g.Unreferenced.Digest));
        Assert.True(await f.BlobBytesExistAsync(g.CrashedBlob));
        Assert.True(await f.BlobBytesExistAsync(g.L3.Digest));
        Assert.NotNull(await f.Metadata.GetUploadOrNullAsync(g.ExpiredUpload, default));
        Assert.NotNull(await f.Blobs.GetUploadSizeOrNullAsync(g.OrphanUploadFile, default));

        var real = await f.Collector.RunAsync(null, dryRun: false, default);
        Assert.Equal(Counts(dry), Counts(real));
        Assert.Equal(dry.Blobs.Select(b => b.Digest).Order(), real.Blobs.Select(b => b.Digest).Order());
    }

    [Fact]
    public async Task GarbageYoungerThanTheGracePeriod_IsKept()
    {
        using var f = new ContentFixture();
        var g = await BuildAsync(f);
        f.Time.Advance(TimeSpan.FromMinutes(59));

        var report = await f.Collector.RunAsync(null, dryRun: false, default);

        Assert.Equal((0, 0, 0, 0L), (report.ManifestsRemoved, report.BlobLinksRemoved, report.BlobsRemoved, report.BlobBytesRemoved));
        Assert.True(await f.ManifestExistsAsync(App, g.V2));
        Assert.True(await f.LinkedAsync(App, g.Unreferenced.Digest));
        Assert.True(await f.BlobBytesExistAsync(g.CrashedBlob));
        // Uploads expire on their own clock (90 minutes here): not yet.
        Assert.NotNull(await f.Metadata.GetUploadOrNullAsync(g.ExpiredUpload, default));

        // The report says what the grace period holds back, and until when: the two unreferenced manifests (their blobs
        // stay referenced while they stay), the links nothing references, and the bytes nothing links.
        var held = Assert.IsType<GracePeriodHold>(report.HeldByGracePeriod);
        Assert.Equal((2, 2, 1, (long)g.CrashedBlobSize), (held.Manifests, held.BlobLinks, held.Blobs, held.BlobBytes));
        Assert.Equal(TimeSpan.FromHours(1), held.GracePeriod);
        Assert.InRange(held.Until, f.Time.GetUtcNow(), f.Time.GetUtcNow() + TimeSpan.FromMinutes(1));
        Assert.Contains($"the grace period (01:00:00) holds back 2 manifest(s), 2 blob link(s) and 1 blob(s) ({g.CrashedBlobSize} bytes) until {held.Until:yyyy-MM-ddTHH:mm:ssZ}", report.Summary);
    }

    [Fact]
    public async Task UntaggedManifestDeletionOff_KeepsEveryManifestAndWhatTheyReference()
    {
        using var f = new ContentFixture(o => o.DeleteUntaggedManifests = false);
        var g = await BuildAsync(f);
        f.Time.Advance(TimeSpan.FromHours(2));

        var report = await f.Collector.RunAsync(null, dryRun: false, default);

        Assert.Equal(0, report.ManifestsRemoved);
        Assert.True(await f.ManifestExistsAsync(App, g.V2));
        Assert.True(await f.BlobBytesExistAsync(g.L3.Digest));
        Assert.Equal(new[] { g.Unreferenced.Digest, g.Shared.Digest }.Select(d => d.ToString()).Order(), report.BlobLinks.Select(l => l.Digest).Order());
        Assert.Equal(new[] { g.Unreferenced.Digest, g.CrashedBlob }.Select(d => d.ToString()).Order(), report.Blobs.Select(b => b.Digest).Order());
    }

    [Theory]
    [InlineData("manifest", false, true)]
    [InlineData("manifest", true, false)]
    [InlineData("repository", false, true)]
    public async Task LockedUntaggedManifest_SurvivesCollection_WithItsBlobs(string lockOn, bool deleteEnabled, bool writeEnabled)
    {
        using var f = new ContentFixture();
        var untagged = await f.PushImageAsync(App, "v1", "config-of-a-locked-image", "layer-of-a-locked-image");
        await f.PushImageAsync(App, "v1", "config-of-the-next-image", "layer-of-the-next-image"); // v1 moves on: the first is untagged
        var details = new Berth.Metadata.Sql.SqlRepositoryDetailsStore(f.Database, TimeProvider.System);
        var (target, key) = lockOn == "manifest" ? (AttributeTarget.Manifest, untagged.ToString()) : (AttributeTarget.Repository, "");
        Assert.True(await details.SetAttributesAsync(App, target, key, ContentAttributes.Default with { DeleteEnabled = deleteEnabled, WriteEnabled = writeEnabled }, default));
        f.Time.Advance(TimeSpan.FromHours(2));

        var dry = await f.Collector.RunAsync(null, dryRun: true, default);
        var report = await f.Collector.RunAsync(null, dryRun: false, default);

        Assert.DoesNotContain(untagged.ToString(), dry.Manifests.Select(m => m.Digest));
        Assert.DoesNotContain(untagged.ToString(), report.Manifests.Select(m => m.Digest));
        Assert.True(await f.ManifestExistsAsync(App, untagged));
        foreach (var blob in new[] { "config-of-a-locked-image", "layer-of-a-locked-image" }.Select(t => Digest.Compute(Encoding.UTF8.GetBytes(t))))
        {
            Assert.True(await f.LinkedAsync(App, blob));
            Assert.True(await f.BlobBytesExistAsync(blob));
        }
    }

    [Fact]
    public async Task UnlockedUntaggedManifest_IsCollected()
    {
        using var f = new ContentFixture();
        var untagged = await f.PushImageAsync(App, "v1", "config-of-an-unlocked-image", "layer-of-an-unlocked-image");
        await f.PushImageAsync(App, "v1", "config-of-the-following-image", "layer-of-the-following-image");
        f.Time.Advance(TimeSpan.FromHours(2));

        var report = await f.Collector.RunAsync(null, dryRun: false, default);

        Assert.Contains(untagged.ToString(), report.Manifests.Select(m => m.Digest));
        Assert.False(await f.ManifestExistsAsync(App, untagged));
    }

    [Fact]
    public async Task OneRegistry_LeavesOtherRegistriesLinks()
    {
        using var f = new ContentFixture();
        f.CreateRegistry("otherregistry");
        var elsewhere = ContentFixture.Repo("app", "otherregistry");
        var blob = await f.PushBlobAsync(elsewhere, "unreferenced-in-the-other-registry");
        await f.PushBlobAsync(App, "unreferenced-in-this-registry");
        f.Time.Advance(TimeSpan.FromHours(2));

        var report = await f.Collector.RunAsync(ContentFixture.RegistryName, dryRun: false, default);

        Assert.Single(report.BlobLinks);
        Assert.True(await f.LinkedAsync(elsewhere, blob.Digest));
        Assert.True(await f.BlobBytesExistAsync(blob.Digest));
    }

    [Fact]
    public async Task ManifestPush_WhoseBlobLinkWasCollected_IsRefusedInsideTheWrite()
    {
        using var f = new ContentFixture();
        var layer = await f.PushBlobAsync(App, "layer-for-a-slow-manifest");
        var config = await f.PushBlobAsync(App, "config-for-a-slow-manifest", "application/vnd.oci.image.config.v1+json");
        var manifest = ContentFixture.ImageManifest(config, [layer]);
        f.Time.Advance(TimeSpan.FromHours(2));
        await f.Collector.RunAsync(null, dryRun: false, default);

        // ManifestService checked before GC ran; the write itself must notice the link is gone.
        var stored = new StoredManifest(Digest.Compute(manifest), "application/vnd.oci.image.manifest.v1+json", manifest, null, null, null, f.Time.GetUtcNow());
        var error = await Assert.ThrowsAsync<OciException>(() =>
            f.Metadata.PutManifestAsync(App, new ManifestWrite(stored, [config.Digest, layer.Digest], [], "v1"), default));
        Assert.Equal(OciErrorCode.ManifestBlobUnknown, error.Code);
        Assert.False(await f.ManifestExistsAsync(App, stored.Digest));
        Assert.Null(await f.Metadata.GetTagOrNullAsync(App, "v1", default));
    }

    [Fact]
    public async Task MaintenanceLease_OnSqliteIsHeldByOneCollectionOfTheProcessAtATime()
    {
        using var f = new ContentFixture();
        var lease = await f.Metadata.TryAcquireMaintenanceLeaseAsync(default);
        Assert.NotNull(lease);
        Assert.Null(await f.Metadata.TryAcquireMaintenanceLeaseAsync(default));
        Assert.Equal(GarbageCollector.AnotherNodeCollecting, (await f.Collector.RunAsync(null, dryRun: false, default)).Skipped);
        Assert.Null((await f.Collector.RunAsync(null, dryRun: true, default)).Skipped); // a dry run deletes nothing and needs no lease

        await lease.DisposeAsync();
        await lease.DisposeAsync(); // releasing twice releases once
        Assert.Null((await f.Collector.RunAsync(null, dryRun: false, default)).Skipped);
        await using var again = await f.Metadata.TryAcquireMaintenanceLeaseAsync(default);
        Assert.NotNull(again);
        Assert.Null(await f.Metadata.TryAcquireMaintenanceLeaseAsync(default));
    }

    [Fact]
    public async Task BlobCommittedAgainWhileCollected_IsKept()
    {
        using var f = new ContentFixture();
        var crashed = Encoding.UTF8.GetBytes("bytes that lost their link");
        var digest = Digest.Compute(crashed);
        await CommitAsync(f, crashed, digest);
        var cutoff = f.Time.GetUtcNow() + TimeSpan.FromMinutes(1);
        f.Time.Advance(TimeSpan.FromHours(2));

        // A push of the same bytes commits (refreshing the blob) before the collector's conditional delete.
        await CommitAsync(f, crashed, digest);
        Assert.False(await f.Blobs.DeleteIfUnmodifiedSinceAsync(digest, cutoff, default));
        Assert.True(await f.BlobBytesExistAsync(digest));

        // And once the delete went through, a commit stores the bytes again rather than trusting a file that is gone.
        Assert.True(await f.Blobs.DeleteIfUnmodifiedSinceAsync(digest, f.Time.GetUtcNow() + TimeSpan.FromMinutes(1), default));
        await CommitAsync(f, crashed, digest);
        Assert.True(await f.BlobBytesExistAsync(digest));
    }

    [Fact]
    public async Task ConcurrentPushesDuringCollection_LoseNothingAcknowledged()
    {
        // This test moves the collector's clock hours ahead of the file system's; upload files (stamped by the real
        // clock) would look expired to it. Upload expiry is covered elsewhere, so it is kept out of reach here.
        using var f = new ContentFixture(options => options.UploadExpiry = TimeSpan.FromDays(3650));
        using var stop = new CancellationTokenSource();
        var runs = 0;
        var removed = 0;
        // The collector runs back to back and the clock moves ten minutes before each run, so a push whose steps span
        // six runs finds its first blobs collected: the manifest is refused and the client pushes again. On a busy
        // machine even one step (commit, then link) can span six runs; then the blob upload itself is refused.
        var collector = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                f.Time.Advance(TimeSpan.FromMinutes(10));
                var report = await f.Collector.RunAsync(null, dryRun: false, default);
                Interlocked.Increment(ref runs);
                removed += report.BlobLinksRemoved + report.BlobsRemoved;
            }
        });

        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<(string Tag, Digest Manifest, Digest[] Blobs)>();
        var refused = 0;
        var next = -1;
        // Four clients push images until the collector has run at least 20 times (at least 40 images, at most 400).
        await Parallel.ForEachAsync(Enumerable.Range(0, 4), async (_, _) =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < 400 && (i < 40 || Volatile.Read(ref runs) < 20)) await PushAsync(i);
        });

        async Task PushAsync(int i)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    var config = await f.PushBlobAsync(App, $"config-{i}", "application/vnd.oci.image.config.v1+json");
                    var shared = await f.PushBlobAsync(App, "a-layer-every-image-shares");
                    var own = await f.PushBlobAsync(App, $"layer-{i}");
                    await f.PushBlobAsync(App, $"junk-{i}-{attempt}"); // garbage for the collector to work on meanwhile
                    var digest = await f.PushManifestAsync(App, $"t{i}", ContentFixture.ImageManifest(config, [shared, own]));
                    acknowledged.Add(($"t{i}", digest, [config.Digest, shared.Digest, own.Digest]));
                    return;
                }
                catch (OciException e) when (e.Code is OciErrorCode.ManifestBlobUnknown or OciErrorCode.BlobUploadInvalid && attempt < 200)
                {
                    Interlocked.Increment(ref refused); // refused, never acknowledged: the client pushes the blobs again
                }
            }
        }
        stop.Cancel();
        await collector;
        f.Time.Advance(TimeSpan.FromHours(2));
        await f.Collector.RunAsync(null, dryRun: false, default);

        output.WriteLine($"{acknowledged.Count} images acknowledged during {runs} collections ({removed} links/blobs collected meanwhile); {refused} manifest pushes refused and retried");
        Assert.True(acknowledged.Count >= 40);
        Assert.True(runs >= 20 || acknowledged.Count == 400);
        foreach (var (tag, manifest, blobs) in acknowledged)
        {
            Assert.Equal(manifest, await f.Metadata.GetTagOrNullAsync(App, tag, default));
            foreach (var blob in blobs)
            {
                Assert.True(await f.LinkedAsync(App, blob), $"{tag}: {blob} lost its link");
                using var content = await f.Blobs.OpenOrNullAsync(blob, default);
                Assert.NotNull(content);
                var bytes = new MemoryStream();
                await content.Stream.CopyToAsync(bytes);
                Assert.Equal(blob, Digest.Compute(bytes.ToArray()));
            }
        }
        Assert.True((await f.Checker.CheckAsync(quarantine: false, default)).Healthy);
    }

    [Fact]
    public async Task ABlobPushedAgain_IsAsSafeForTheGracePeriodAsANewOne()
    {
        using var f = new ContentFixture();
        var pushed = await f.PushBlobAsync(App, "pushed long ago, never referenced");
        f.Time.Advance(TimeSpan.FromHours(2));
        // The client pushes it again (say, for a manifest it is about to push): link and bytes both start a new grace period.
        await f.PushBlobAsync(App, "pushed long ago, never referenced");

        var report = await f.Collector.RunAsync(null, dryRun: false, default);

        Assert.Equal((0, 0), (report.BlobLinksRemoved, report.BlobsRemoved));
        Assert.True(await f.LinkedAsync(App, pushed.Digest));
        Assert.True(await f.BlobBytesExistAsync(pushed.Digest));
    }

    [Fact]
    public async Task AnUploadStalledPastTheGracePeriodBetweenCommitAndLink_IsRefusedRatherThanAcknowledgedWithoutBytes()
    {
        using var f = new ContentFixture(options => options.UploadExpiry = TimeSpan.FromDays(3650));
        var content = "committed, then stalled"u8.ToArray();
        var digest = Digest.Compute(content);
        // Right after the commit, the clock jumps past the grace period and a collection runs: it finds the fresh
        // bytes unlinked and old, so it deletes them before the upload gets to write its link.
        var collectedMeanwhile = 0;
        var stalling = new HookedBlobStore(f.Blobs, afterCommit: async () =>
        {
            f.Time.Advance(TimeSpan.FromHours(2));
            collectedMeanwhile = (await f.Collector.RunAsync(null, dryRun: false, default)).BlobsRemoved;
        });
        var uploads = new UploadService(stalling, f.Metadata, new ContentLocks(new Berth.Metadata.Sql.SqlRepositoryDetailsStore(f.Database, TimeProvider.System)), f.Time);
        var session = await uploads.StartAsync(App, default);

        var refused = await Assert.ThrowsAsync<OciException>(() =>
            uploads.FinishAsync(App, session.Id, digest, new MemoryStream(content), new ChunkRange(null, null, null), default));

        Assert.Equal(OciErrorCode.BlobUploadInvalid, refused.Code);
        Assert.Equal(1, collectedMeanwhile);
        Assert.False(await f.LinkedAsync(App, digest));
        Assert.Null(await f.Metadata.GetUploadOrNullAsync(session.Id, default));
        // Pushed again, the blob is stored and linked as usual.
        await f.PushBlobAsync(App, content);
        Assert.True(await f.LinkedAsync(App, digest));
        Assert.True(await f.BlobBytesExistAsync(digest));
    }

    private static async Task CommitAsync(ContentFixture f, byte[] content, Digest digest)
    {
        var upload = Guid.NewGuid().ToString("N");
        await f.Blobs.CreateUploadAsync(upload, default);
        await using (var stream = (await f.Blobs.OpenUploadForAppendOrNullAsync(upload, default))!) await stream.WriteAsync(content);
        await f.Blobs.CommitUploadAsync(upload, digest, default);
    }

    private static (int, int, int, long, int, long) Counts(GarbageCollectionReport r) =>
        (r.ManifestsRemoved, r.BlobLinksRemoved, r.BlobsRemoved, r.BlobBytesRemoved, r.UploadsRemoved, r.UploadBytesRemoved);
}
