using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Berth.Server.Tests.TokenService;

/// <summary>skopeo with credentials on its command line (<c>--dest-creds</c>, <c>--src-creds</c>), as users run it.</summary>
public sealed class SkopeoCredentialTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>, IDisposable
{
    private readonly ClientSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private string Reference(string repository, string tag) => $"docker://{server.Host}/{repository}:{tag}";

    private async Task<string> LayoutAsync(TestImage image, string tag)
    {
        var layout = _sandbox.Combine("layout-" + Guid.NewGuid().ToString("N")[..8]);
        image.WriteLayout(layout, tag);
        return layout;
    }

    private Task<ExternalToolResult> PushAsync(string layout, string tag, string destination, string credentials) =>
        _sandbox.SkopeoAsync(["copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", credentials, $"oci:{layout}:{tag}", destination],
            credentials.Split(':', 2)[1]);

    private Task<ExternalToolResult> PullAsync(string source, string layout, string credentials) =>
        _sandbox.SkopeoAsync(["copy", "--src-tls-verify=false", "--src-creds", credentials, source, $"oci:{layout}:pulled"], credentials.Split(':', 2)[1]);

    /// <summary>The pulled layout holds exactly the pushed manifest, config and layer bytes.</summary>
    private static void AssertLayoutHolds(string layout, TestImage image)
    {
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(layout, "index.json")));
        var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
        Assert.Equal(image.ManifestDigest, manifestDigest);
        byte[] Blob(string digest) => File.ReadAllBytes(Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]));
        Assert.Equal(image.Manifest, Blob(image.ManifestDigest));
        Assert.Equal(image.Config, Blob(image.ConfigDigest));
        Assert.Equal(image.Layer, Blob(image.LayerDigest));
    }

    [Fact]
    public async Task SkopeoWithAdminCreds_PushesAndPullsByteIdentically()
    {
        var image = new TestImage(payloadSize: 64 * 1024);
        var pushed = await PushAsync(await LayoutAsync(image, "1"), "1", Reference("clients/skopeo", "1"), server.AdminCredentials);
        Assert.True(pushed.ExitCode == 0, pushed.Describe());

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v2/clients/skopeo/manifests/1"))
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(TestImage.ManifestMediaType));
            using var manifest = await server.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
            Assert.Equal(image.Manifest, await manifest.Content.ReadAsByteArrayAsync());
        }

        var pulledLayout = _sandbox.Combine("pulled-admin");
        var pulled = await PullAsync(Reference("clients/skopeo", "1"), pulledLayout, server.AdminCredentials);
        Assert.True(pulled.ExitCode == 0, pulled.Describe());
        AssertLayoutHolds(pulledLayout, image);
    }

    [Fact]
    public async Task SkopeoWithPullOnlyToken_PullsByteIdentically()
    {
        var image = new TestImage();
        await server.Client.PushImageAsync("clients/pullonly", image, "1");
        var password = await server.CreateTokenAsync("skopeo-pull", "_repositories_pull");

        var layout = _sandbox.Combine("pulled-token");
        var pulled = await PullAsync(Reference("clients/pullonly", "1"), layout, $"skopeo-pull:{password}");
        Assert.True(pulled.ExitCode == 0, pulled.Describe());
        AssertLayoutHolds(layout, image);
    }

    [Fact]
    public async Task SkopeoWithPullOnlyToken_CannotPushAndSaysItIsUnauthorized()
    {
        var password = await server.CreateTokenAsync("skopeo-nopush", "_repositories_pull");
        var image = new TestImage();
        var pushed = await PushAsync(await LayoutAsync(image, "1"), "1", Reference("clients/denied", "1"), $"skopeo-nopush:{password}");

        Assert.True(pushed.ExitCode != 0, "the push should fail\n" + pushed.Describe());
        Assert.True(pushed.StandardError.Contains("unauthorized: authentication required"), pushed.Describe());
        Assert.DoesNotContain(password, pushed.Output);
        using var head = new HttpRequestMessage(HttpMethod.Head, $"/v2/clients/denied/blobs/{image.LayerDigest}");
        using var blob = await server.Client.SendAsync(head);
        Assert.Equal(HttpStatusCode.NotFound, blob.StatusCode);
    }

    [Fact]
    public async Task SkopeoWithWrongPassword_CannotPullAndSaysItIsUnauthorized()
    {
        await server.Client.PushImageAsync("clients/wrong", new TestImage(), "1");
        var pulled = await PullAsync(Reference("clients/wrong", "1"), _sandbox.Combine("pulled-wrong"), $"{server.AdminUsername}:wrong-password");
        Assert.True(pulled.ExitCode != 0, "the pull should fail\n" + pulled.Describe());
        Assert.True(pulled.StandardError.Contains("unauthorized: authentication required"), pulled.Describe());
    }
}
