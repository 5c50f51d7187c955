using System.Security.Cryptography;
using Berth.Core.Content;
using Berth.Core.Tests.Maintenance;
using Berth.Metadata.Sql;
using Berth.Metadata.Sqlite;
using Berth.Oci;

namespace Berth.Core.Tests.Content;

/// <summary>
/// Behind a load balancer the requests of one upload reach different nodes: two upload services over the same stores
/// stand for two nodes. Each keeps a running hash of its own; the digest must come out right whichever node took
/// which chunk.
/// </summary>
public sealed class UploadAcrossNodesTests : IDisposable
{
    private readonly ContentFixture _fixture = new();
    private readonly UploadService _nodeA;
    private readonly UploadService _nodeB;

    public UploadAcrossNodesTests()
    {
        _nodeA = _fixture.Uploads;
        _nodeB = new UploadService(_fixture.Blobs, _fixture.Metadata, new ContentLocks(new SqlRepositoryDetailsStore(_fixture.Database, TimeProvider.System)), _fixture.Time);
    }

    [Fact]
    public async Task ChunksAlternatingBetweenNodes_FinishWithTheirDigest()
    {
        var repository = ContentFixture.Repo("team/app");
        var content = RandomNumberGenerator.GetBytes(3 * 100_000);
        var session = await _nodeA.StartAsync(repository, default);

        await _nodeA.AppendAsync(repository, session.Id, new MemoryStream(content[..100_000]), new ChunkRange(0, 99_999, 100_000), default);
        await _nodeB.AppendAsync(repository, session.Id, new MemoryStream(content[100_000..200_000]), new ChunkRange(100_000, 199_999, 100_000), default);
        // Node A still holds its hash of the first chunk; it must not take it for the whole upload.
        await _nodeA.AppendAsync(repository, session.Id, new MemoryStream(content[200_000..]), new ChunkRange(200_000, 299_999, 100_000), default);
        var committed = await _nodeB.FinishAsync(repository, session.Id, Digest.Compute(content), finalChunk: null, new ChunkRange(null, null, null), default);

        Assert.Equal((Digest.Compute(content), (long)content.Length), (committed.Digest, committed.Size));
    }

    [Fact]
    public async Task UploadStartedOnOneNode_FinishedWithBodyOnTheOther_VerifiesItsDigest()
    {
        var repository = ContentFixture.Repo("team/app");
        var content = RandomNumberGenerator.GetBytes(250_000);
        var session = await _nodeA.StartAsync(repository, default);

        var committed = await _nodeB.FinishAsync(repository, session.Id, Digest.Compute(content), new MemoryStream(content), new ChunkRange(null, null, content.Length), default);

        Assert.Equal(Digest.Compute(content), committed.Digest);
        var wrong = await _nodeB.StartAsync(repository, default);
        var error = await Assert.ThrowsAsync<OciException>(() =>
            _nodeA.FinishAsync(repository, wrong.Id, Digest.Compute(content), new MemoryStream(content[..^1]), new ChunkRange(null, null, content.Length - 1), default));
        Assert.Equal(OciErrorCode.DigestInvalid, error.Code);
    }

    public void Dispose() => _fixture.Dispose();
}
