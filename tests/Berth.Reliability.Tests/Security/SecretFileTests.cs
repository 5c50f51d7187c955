using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Berth.Reliability.Tests.Infrastructure;

namespace Berth.Reliability.Tests.Security;

/// <summary>
/// The admin credentials file of a first start, in a data folder where an earlier installation left a file of that
/// name readable by everyone: the new credentials must not inherit its permissions or be written into it.
/// </summary>
public sealed class SecretFileTests : IDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("berth-secret-files-");

    public void Dispose() => _data.Delete(recursive: true);

    [Fact]
    public async Task LeftoverCredentialsFileReadableByAll_IsReplacedByAnOwnerOnlyFile()
    {
        var path = Path.Combine(_data.FullName, "admin-credentials.json");
        await File.WriteAllTextAsync(path, "stale credentials of an earlier installation " + new string('x', 4096));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        using var server = ReliabilityServer.Create(_data.FullName);
        await server.StartAsync(); // returns once the file holds the new credentials

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var written = JsonDocument.Parse(await File.ReadAllBytesAsync(path));
        Assert.Equal(["registry", "loginServer", "username", "password", "password2"], written.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Empty(Directory.EnumerateFiles(_data.FullName, ".admin-credentials.json.*"));
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(server.Credentials!)));
        using var response = await client.GetAsync("v2/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
