using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Berth.Testing;

namespace Berth.Cli.Tests.Infrastructure;

/// <summary>
/// A Berth server process (<see cref="BerthProcess"/>: <c>dotnet berth.dll serve --urls http://127.0.0.1:PORT --data DIR</c>)
/// whose working directory holds <c>data/</c>, so the CLI run from that directory finds it with no flags, as a user would.
/// </summary>
public class LiveServer : IAsyncLifetime
{
    private BerthProcess? _process;

    public TempFolder Folder { get; } = new();
    public int Port => _process?.Port ?? 0;
    public string Address => $"127.0.0.1:{Port}";
    public string DataDirectory => Path.Combine(Folder.Path, "data");

    /// <summary>Extra server arguments, for a subclass that needs another set-up.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    public virtual async Task InitializeAsync()
    {
        _process = new BerthProcess(DataDirectory)
        {
            Arguments = [.. ExtraArguments],
            WorkingDirectory = Folder.Path,
            // What the CLI reads to find the server and sign in.
            RequiredFiles = [Path.Combine("management", "endpoint.json"), "admin-credentials.json"],
        };
        await _process.StartAsync();
    }

    public virtual Task DisposeAsync()
    {
        _process?.Dispose();
        Folder.Dispose();
        return Task.CompletedTask;
    }

    public string Output => _process?.Output ?? "";

    /// <summary>A CLI run from the server's working directory (it finds ./data), with its own auth files.</summary>
    public CliRun Cli(string name)
    {
        var folder = Path.Combine(Folder.Path, "clients", name);
        Directory.CreateDirectory(folder);
        var cli = new CliRun(folder);
        cli.Set("BERTH_DATA", DataDirectory);
        return cli;
    }

    public (string User, string Password) AdminCredentials()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(DataDirectory, "admin-credentials.json")))!;
        return ((string)json["username"]!, (string)json["password"]!);
    }

    /// <summary>Pushes a one-layer OCI image with the default registry's admin credentials; returns the manifest digest.</summary>
    public async Task<string> PushImageAsync(string repository, string tag)
    {
        var (user, password) = AdminCredentials();
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri($"http://{Address}/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        var layer = Encoding.UTF8.GetBytes($"layer of {repository}:{tag}");
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var layerDigest = await PushBlobAsync(client, repository, layer);
        var configDigest = await PushBlobAsync(client, repository, config);
        var manifest = Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
             "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{config.Length}}},
             "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{layerDigest}}","size":{{layer.Length}}}]}
            """);
        using var put = new HttpRequestMessage(HttpMethod.Put, $"v2/{repository}/manifests/{tag}") { Content = new ByteArrayContent(manifest) };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var response = await client.SendAsync(put);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"manifest PUT answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return Digest(manifest);
    }

    private static async Task<string> PushBlobAsync(HttpClient client, string repository, byte[] content)
    {
        var digest = Digest(content);
        using var start = await client.PostAsync($"v2/{repository}/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location!;
        var uri = location.IsAbsoluteUri ? location : new Uri(client.BaseAddress!, location);
        var separator = uri.Query.Length > 0 ? "&" : "?";
        using var finish = await client.PutAsync(uri + separator + "digest=" + Uri.EscapeDataString(digest), new ByteArrayContent(content));
        Assert.Equal(HttpStatusCode.Created, finish.StatusCode);
        return digest;
    }

    private static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
}
