using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Berth.EndToEnd.Tests.Infrastructure;

namespace Berth.EndToEnd.Tests;

/// <summary>skopeo's read and delete commands against images it pushed to Berth.</summary>
public sealed class SkopeoRegistryCommandTests(BerthServer server) : IClassFixture<BerthServer>, IDisposable
{
    private readonly ContainerTools _tools = new(server);
    private readonly TempDirectory _work = new("commands");

    [Fact]
    public async Task SkopeoInspect_ReportsTheDigestOfThePushedManifest()
    {
        var (layout, manifest) = BuildImage("inspect");
        (await _tools.SkopeoCopyAsync($"oci:{layout}:v1", _tools.RegistryReference("e2e/inspect", "v1"))).EnsureSuccess();

        var result = (await _tools.SkopeoAsync("inspect", _tools.RegistryReference("e2e/inspect", "v1"))).EnsureSuccess();

        var inspected = JsonNode.Parse(result.StandardOutput)!;
        Assert.Equal(manifest.Digest, inspected["Digest"]!.GetValue<string>());
        Assert.Equal("amd64", inspected["Architecture"]!.GetValue<string>());
    }

    [Fact]
    public async Task SkopeoInspectRaw_ReturnsThePushedManifestBytes()
    {
        var (layout, manifest) = BuildImage("inspect-raw");
        (await _tools.SkopeoCopyAsync($"oci:{layout}:v1", _tools.RegistryReference("e2e/inspect-raw", "v1"))).EnsureSuccess();

        var result = (await _tools.SkopeoAsync("inspect", _tools.RegistryReference("e2e/inspect-raw", "v1"), "--raw")).EnsureSuccess();

        var expected = await File.ReadAllTextAsync(Path.Combine(layout, "blobs", "sha256", manifest.Digest["sha256:".Length..]));
        // skopeo prints the raw manifest followed by a newline of its own.
        Assert.Equal(expected, result.StandardOutput.TrimEnd('\n'));
    }

    [Fact]
    public async Task SkopeoListTags_ListsExactlyThePushedTags()
    {
        var (layout, _) = BuildImage("tags");
        string[] tags = ["1.0", "1.1", "latest", "v2-rc.1"];
        foreach (var tag in tags)
        {
            (await _tools.SkopeoCopyAsync($"oci:{layout}:v1", _tools.RegistryReference("e2e/tags", tag))).EnsureSuccess();
        }

        var result = (await _tools.SkopeoAsync("list-tags", $"docker://{server.Host}/e2e/tags")).EnsureSuccess();

        var listed = JsonNode.Parse(result.StandardOutput)!;
        Assert.Equal($"{server.Host}/e2e/tags", listed["Repository"]!.GetValue<string>());
        Assert.Equal(tags.Order(StringComparer.Ordinal), listed["Tags"]!.AsArray().Select(t => t!.GetValue<string>()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SkopeoDelete_ThenTheManifestIsNotFoundByDigestOrTag()
    {
        var (layout, manifest) = BuildImage("delete");
        const string repository = "e2e/delete";
        (await _tools.SkopeoCopyAsync($"oci:{layout}:v1", _tools.RegistryReference(repository, "v1"))).EnsureSuccess();
        using var client = server.CreateHttpClient();
        using (var before = await GetManifestAsync(client, repository, manifest.Digest))
        {
            await RegistryHttp.ExpectAsync(before, HttpStatusCode.OK);
        }

        (await _tools.SkopeoAsync("delete", _tools.RegistryReference(repository, "v1"))).EnsureSuccess();

        using var byDigest = await GetManifestAsync(client, repository, manifest.Digest);
        await RegistryHttp.ExpectAsync(byDigest, HttpStatusCode.NotFound);
        using var byTag = await GetManifestAsync(client, repository, "v1");
        await RegistryHttp.ExpectAsync(byTag, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SkopeoInspect_WithoutCredentials_IsRejectedBecauseTheRegistryIsPrivate()
    {
        var (layout, _) = BuildImage("private");
        (await _tools.SkopeoCopyAsync($"oci:{layout}:v1", _tools.RegistryReference("e2e/private", "v1"))).EnsureSuccess();
        using var anonymous = new ContainerTools(server, anonymous: true);

        var result = await anonymous.SkopeoAsync("inspect", anonymous.RegistryReference("e2e/private", "v1"));

        Assert.True(result.ExitCode != 0, "an anonymous inspect of a private registry must fail\n" + result.Describe());
        Assert.Contains("unauthorized", result.StandardError, StringComparison.OrdinalIgnoreCase);
    }

    private static Task<HttpResponseMessage> GetManifestAsync(HttpClient client, string repository, string reference)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/manifests/{reference}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciMediaTypes.ImageManifest));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(OciMediaTypes.ImageIndex));
        return client.SendAsync(request);
    }

    private (string Directory, Descriptor Manifest) BuildImage(string name)
    {
        var layout = new OciLayoutBuilder(_work.Combine(name));
        var manifest = layout.AddRandomImage("linux", "amd64", 128 * 1024);
        layout.Tag(manifest, "v1");
        return (layout.Directory, manifest);
    }

    public void Dispose()
    {
        _tools.Dispose();
        _work.Dispose();
    }
}
