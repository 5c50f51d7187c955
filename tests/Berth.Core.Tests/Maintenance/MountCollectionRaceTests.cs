using System.Collections.Concurrent;
using System.Text;
using Berth.Core.Content;
using Berth.Core.Identity;
using Berth.Core.Storage;
using Berth.Metadata.Sql;
using Berth.Metadata.Sqlite;
using Berth.Oci;
using Xunit.Abstractions;

namespace Berth.Core.Tests.Maintenance;

/// <summary>
/// A cross-repository mount and a collection that deletes the mounted blob in the same instant: an acknowledged
/// mount must never point at bytes that are gone.
/// </summary>
public sealed class MountCollectionRaceTests(ITestOutputHelper output)
{
    private static readonly RepositoryKey Source = ContentFixture.Repo("mount/source");

    [Fact]
    public async Task CollectionDeletingTheBlobBetweenTheMountsCheckAndItsLink_MountIsWithdrawn()
    {
        using var f = new ContentFixture(options => options.GracePeriod = TimeSpan.Zero);
        var pushed = await f.PushBlobAsync(Source, "a layer only the source links, unreferenced");
        f.Time.Advance(TimeSpan.FromSeconds(1));
        // The worst interleaving, made certain: right after the mount has seen the bytes, and before it writes its link,
        // a whole collection runs and removes the source's link and then the bytes.
        var blobs = new HookedBlobStore(f.Blobs, afterSizeLookup: () => f.Collector.RunAsync(null, dryRun: false, default));
        var mounts = Mounts(f, blobs);
        var target = ContentFixture.Repo("mount/target");

        var mounted = await mounts.TryMountAsync(target, pushed.Digest, Source, Permissions.Admin, default);

        Assert.False(await f.BlobBytesExistAsync(pushed.Digest));
        Assert.Null(mounted);
        Assert.False(await f.LinkedAsync(target, pushed.Digest));
    }

    [Fact]
    public async Task MountsHammeredAgainstZeroGraceCollection_EveryAcknowledgedMountIsReadable()
    {
        using var f = new ContentFixture(options =>
        {
            options.GracePeriod = TimeSpan.Zero;
            options.UploadExpiry = TimeSpan.FromDays(3650); // uploads in flight are not what this test is about
        });
        var mounts = Mounts(f, f.Blobs);
        // The mounters stop once they have seen enough; the time limit only bounds a machine too busy to get there.
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var runs = 0;
        var collector = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Zero grace and a clock that moves before each run: every link and blob not written during the run is fair game.
                f.Time.Advance(TimeSpan.FromSeconds(1));
                await f.Collector.RunAsync(null, dryRun: false, default);
                Interlocked.Increment(ref runs);
            }
        });

        // A pusher keeps putting fresh unreferenced blobs into the source; mounters race the collector for them, each
        // into a repository of its own, so every link there is an acknowledged mount's (a withdrawn mount's link is
        // gone before the same mounter looks).
        var latest = new ConcurrentQueue<Digest>();
        var acknowledged = 0;
        var verified = 0;
        var withdrawn = 0;
        var failures = new ConcurrentBag<string>();
        var pusher = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested && i < 5000; i++)
            {
                try
                {
                    latest.Enqueue((await f.PushBlobAsync(Source, $"blob-{i}")).Digest);
                }
                catch (OciException e) when (e.Code == OciErrorCode.BlobUploadInvalid)
                {
                    continue; // with zero grace, a collection may take the bytes between commit and link: refused, not acknowledged
                }
                while (latest.Count > 8) latest.TryDequeue(out _);
            }
        });
        await Parallel.ForEachAsync(Enumerable.Range(0, 3), async (worker, _) =>
        {
            var target = ContentFixture.Repo($"mount/target-{worker}");
            while (!stop.IsCancellationRequested && (Volatile.Read(ref acknowledged) < 2000 || Volatile.Read(ref runs) < 20))
            {
                var candidates = latest.ToArray();
                if (candidates.Length == 0) { await Task.Yield(); continue; }
                var digest = candidates[Random.Shared.Next(candidates.Length)];
                if (await mounts.TryMountAsync(target, digest, Source, Permissions.Admin, default) is null)
                {
                    Interlocked.Increment(ref withdrawn);
                    continue;
                }
                Interlocked.Increment(ref acknowledged);
                // Bytes first, then the link: the collector removes a link before the bytes, never the reverse, so
                // missing bytes under a link that is still there mean the bytes went while the mount's link existed.
                var bytes = await ReadOrNullAsync(f.Blobs, digest);
                if (bytes is not null)
                {
                    if (Digest.Compute(bytes) != digest) failures.Add($"{target}: {digest} does not verify");
                    else Interlocked.Increment(ref verified);
                }
                else if (await f.LinkedAsync(target, digest))
                {
                    failures.Add($"{target}: acknowledged mount of {digest} links a blob that is gone");
                }
            }
        });
        stop.Cancel();
        await Task.WhenAll(collector, pusher);

        output.WriteLine($"{acknowledged} mounts acknowledged ({verified} read back and verified), {withdrawn} not mounted, during {runs} zero-grace collections");
        Assert.Empty(failures);
        Assert.True(verified >= 100, $"only {verified} mounts verified");
        Assert.True(runs >= 20, $"only {runs} collections ran");
    }

    private static BlobService Mounts(ContentFixture f, IBlobStore blobs) =>
        new(blobs, f.Metadata, new ContentLocks(new SqlRepositoryDetailsStore(f.Database, TimeProvider.System)));

    private static async Task<byte[]?> ReadOrNullAsync(IBlobStore blobs, Digest digest)
    {
        using var content = await blobs.OpenOrNullAsync(digest, default);
        if (content is null) return null;
        var bytes = new MemoryStream();
        await content.Stream.CopyToAsync(bytes);
        return bytes.ToArray();
    }
}
