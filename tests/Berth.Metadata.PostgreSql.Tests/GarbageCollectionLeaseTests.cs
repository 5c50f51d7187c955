using System.Runtime.CompilerServices;
using Berth.Core.Maintenance;
using Berth.Core.Storage;
using Berth.Metadata.Sql;
using Berth.Oci;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Berth.Metadata.PostgreSql.Tests;

/// <summary>Several nodes over one database: garbage collection runs on one of them at a time.</summary>
public sealed class GarbageCollectionLeaseTests
{
    [Fact]
    public async Task TwoNodesCollectingAtOnce_ExactlyOneCollects_TheOtherReportsWhy()
    {
        await using var test = await TestDatabase.CreateAsync();
        // Two nodes: each its own connection pool, stores and collector. Whichever takes the lease first is held inside
        // its run (listing blobs) until the test opens the gate, so the other's attempt falls squarely within it.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var nodes = Enumerable.Range(0, 2).Select(_ => Collector(test.Open(), new GatedBlobStore(gate.Task))).ToList();
        using var start = new Barrier(2);

        var runs = nodes.Select(collector => Task.Run(() =>
        {
            start.SignalAndWait();
            return collector.RunAsync(null, dryRun: false, CancellationToken.None);
        })).ToList();
        var first = await Task.WhenAny(runs).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(GarbageCollector.AnotherNodeCollecting, (await first).Skipped);
        gate.SetResult();
        var reports = await Task.WhenAll(runs);

        Assert.Single(reports, r => r.Skipped is null);
        Assert.Single(reports, r => r.Skipped is not null);
        Assert.StartsWith("skipped: another node", reports.Single(r => r.Skipped is not null).Summary);

        // Released at the end of the run: the node that was turned away collects next time.
        var skippedNode = nodes[reports[0].Skipped is null ? 1 : 0];
        Assert.Null((await skippedNode.RunAsync(null, dryRun: false, CancellationToken.None)).Skipped);
    }

    [Fact]
    public async Task LeaseReleasedOrItsHolderGone_TheOtherNodeTakesIt()
    {
        await using var test = await TestDatabase.CreateAsync();
        var one = new SqlMetadataStore(test.Open(), TimeProvider.System);
        var other = new SqlMetadataStore(test.Open(), TimeProvider.System);

        var lease = await one.TryAcquireMaintenanceLeaseAsync(CancellationToken.None);
        Assert.NotNull(lease);
        Assert.Null(await other.TryAcquireMaintenanceLeaseAsync(CancellationToken.None));
        await lease.DisposeAsync();
        var taken = await other.TryAcquireMaintenanceLeaseAsync(CancellationToken.None);
        Assert.NotNull(taken);

        // A holder that dies (here: its session is terminated) frees the lease with its session.
        await using (var admin = new NpgsqlConnection(test.ConnectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database());",
                admin);
            Assert.Equal(true, await terminate.ExecuteScalarAsync());
        }
        await using var afterCrash = await WaitForLeaseAsync(one);
        await taken.DisposeAsync(); // its connection is gone; releasing it must not throw
    }

    private static async Task<IAsyncDisposable> WaitForLeaseAsync(IMetadataStore store)
    {
        // Termination is asynchronous on the server side: the lock goes when the backend has exited.
        for (var attempt = 0; attempt < 50; attempt++)
        {
            if (await store.TryAcquireMaintenanceLeaseAsync(CancellationToken.None) is { } lease) return lease;
            await Task.Delay(100);
        }
        throw new TimeoutException("the terminated holder's lease was not freed");
    }

    private static GarbageCollector Collector(PostgreSqlDatabase database, IBlobStore blobs) =>
        new(new SqlMetadataStore(database, TimeProvider.System), blobs, new SqlRegistryStore(database), new SqlDeletedContentStore(database, TimeProvider.System),
            Options.Create(new GarbageCollectionOptions()), TimeProvider.System, NullLogger<GarbageCollector>.Instance);

    /// <summary>An empty blob store whose listing waits for the gate: a collection in progress for as long as the test needs.</summary>
    private sealed class GatedBlobStore(Task gate) : IBlobStore
    {
        public async IAsyncEnumerable<StoredBlobInfo> ListBlobsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await gate.WaitAsync(cancellationToken);
            yield break;
        }

        public async IAsyncEnumerable<StoredUploadInfo> ListUploadsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.CompletedTask;
            yield break;
        }

        public Task<long?> GetSizeOrNullAsync(Digest digest, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<BlobContent?> OpenOrNullAsync(Digest digest, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<Uri?> GetDownloadRedirectOrNullAsync(Digest digest, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task DeleteAsync(Digest digest, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<Stream?> OpenUploadForAppendOrNullAsync(string uploadId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<Stream?> OpenUploadForReadOrNullAsync(string uploadId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<long?> GetUploadSizeOrNullAsync(string uploadId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> RefreshAsync(Digest digest, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<bool> DeleteIfUnmodifiedSinceAsync(Digest digest, DateTimeOffset modifiedBefore, CancellationToken cancellationToken) => throw new NotSupportedException();
        public Task<string?> QuarantineAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
