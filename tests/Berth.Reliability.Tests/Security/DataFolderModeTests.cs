using Berth.Reliability.Tests.Infrastructure;

namespace Berth.Reliability.Tests.Security;

/// <summary>
/// The data folder of a real <c>berth serve</c> holds image content, the database and keys: after a push and with an
/// upload in progress, nothing in it is open to the group or to other users, the folder itself included.
/// </summary>
public sealed class DataFolderModeTests : IDisposable
{
    private readonly DirectoryInfo _parent = Directory.CreateTempSubdirectory("berth-data-modes-");

    public void Dispose() => _parent.Delete(recursive: true);

    [Fact]
    public async Task AfterPushAndWithAnUploadInProgress_NothingIsOpenToGroupOrOthers()
    {
        // An existing folder with the usual 0755, as an earlier version or a plain mkdir leaves it.
        var data = Path.Combine(_parent.FullName, "data");
        Directory.CreateDirectory(data);
        File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        using var server = ReliabilityServer.Create(data);
        await server.StartAsync();
        using var client = server.CreateClient();
        var image = new TestImage();
        await client.PushImageAsync("modes/app", image, "v1");
        var upload = await client.StartUploadAsync("modes/app");
        using (var chunk = new ByteArrayContent(new byte[1000]))
        {
            chunk.Headers.ContentType = new("application/octet-stream");
            using var patch = await client.PatchAsync(upload, chunk);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, patch.StatusCode);
        }

        var files = PrivateDataFolder.Files(data);
        Assert.Contains(files, f => f.EndsWith(image.LayerDigest["sha256:".Length..]));
        Assert.Contains(files, f => f.StartsWith("storage/uploads/"));
        Assert.Contains("metadata/berth.db", files);
        Assert.Contains("metadata/berth.db-wal", files);
        Assert.Empty(PrivateDataFolder.FindExposed(data));
    }
}
