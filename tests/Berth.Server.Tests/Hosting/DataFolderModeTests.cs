using System.Net;
using System.Net.Http.Headers;

namespace Berth.Server.Tests.Hosting;

/// <summary>
/// The modes the server sets itself, whatever the process umask (the test process keeps the usual 022): the data
/// folder, the database, blobs, uploads, keys and management files are private to the server's user.
/// </summary>
public sealed class DataFolderModeTests(BerthTestServer server) : IClassFixture<BerthTestServer>
{
    [Fact]
    public async Task AfterPushAndWithAnUploadInProgress_NothingIsOpenToGroupOrOthers()
    {
        var image = new TestImage();
        await server.Client.PushImageAsync("modes/app", image, "v1");
        var upload = await server.Client.StartUploadAsync("modes/app");
        using (var chunk = new ByteArrayContent(new byte[1000]))
        {
            chunk.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var patch = await server.Client.PatchAsync(upload, chunk);
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        }

        var files = PrivateDataFolder.Files(server.DataPath);
        Assert.Contains(files, f => f.EndsWith(image.LayerDigest["sha256:".Length..]));
        Assert.Contains(files, f => f.StartsWith("storage/uploads/"));
        Assert.Contains("metadata/berth.db", files);
        Assert.Contains("metadata/berth.db-wal", files);
        Assert.Empty(PrivateDataFolder.FindExposed(server.DataPath));
    }
}
