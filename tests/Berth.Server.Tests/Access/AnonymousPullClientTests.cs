namespace Berth.Server.Tests.Access;

/// <summary>
/// The documentation's flow with real clients and no stored credentials at all: skopeo and podman pull anonymously
/// while the switch is on, fail while it is off, and anonymous pushes always fail.
/// </summary>
public sealed class AnonymousPullClientTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>, IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("berth-anon-").FullName;

    /// <summary>An empty auth file, so no credentials from the machine's own files can reach the registry.</summary>
    private string AuthFile => Path.Combine(_work, "auth.json");

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(AuthFile, "{}");
        await server.SetAnonymousPullAsync(false);
    }

    public async Task DisposeAsync()
    {
        await server.SetAnonymousPullAsync(false);
        // podman's storage may hold files owned by other uids in a user namespace; best effort is enough for a temp folder.
        try { Directory.Delete(_work, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task SwitchOn_SkopeoCopiesOutWithoutCredentials_ByteIdentical()
    {
        var image = await PushAsync("public/skopeo");
        await server.SetAnonymousPullAsync(true);

        var layout = Path.Combine(_work, "out");
        var result = await SkopeoAsync("copy", "--src-tls-verify=false", "--src-no-creds", $"docker://{server.Host}/public/skopeo:1", $"oci:{layout}:1");
        result.EnsureSuccess();

        foreach (var (digest, bytes) in new[] { (image.LayerDigest, image.Layer), (image.ConfigDigest, image.Config), (image.ManifestDigest, image.Manifest) })
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..])));
    }

    [Fact]
    public async Task SwitchOn_PodmanPullsWithoutCredentials()
    {
        var image = await PushAsync("public/podman");
        await server.SetAnonymousPullAsync(true);

        var pull = await PodmanAsync("pull", "--tls-verify=false", $"{server.Host}/public/podman:1");
        pull.EnsureSuccess();
        var digest = await PodmanAsync("image", "inspect", "--format", "{{.Digest}}", $"{server.Host}/public/podman:1");
        Assert.Equal(image.ManifestDigest, digest.EnsureSuccess().StandardOutput.Trim());
    }

    [Fact]
    public async Task SwitchOn_AnonymousPushIsRefused()
    {
        await server.SetAnonymousPullAsync(true);
        var layout = Path.Combine(_work, "in");
        new TestImage().WriteLayout(layout, "1");

        var result = await SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-no-creds", $"oci:{layout}:1", $"docker://{server.Host}/public/anonymous-push:1");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("authentication required", result.Output);
    }

    [Fact]
    public async Task SwitchOff_AnonymousPullFails_AndWorksAgainWhenTurnedBackOn()
    {
        await PushAsync("public/toggle");
        await server.SetAnonymousPullAsync(true);
        (await InspectAnonymouslyAsync("public/toggle:1")).EnsureSuccess();

        await server.SetAnonymousPullAsync(false);
        var refused = await InspectAnonymouslyAsync("public/toggle:1");
        Assert.NotEqual(0, refused.ExitCode);
        // skopeo prints the token service's message: ACR's text, after what is wrong and how to log in.
        Assert.Contains($"anonymous pull is disabled on registry {server.RegistryName}: log in first (berth acr login -n {server.RegistryName}, or podman login {server.Host})", refused.Output);
        Assert.Contains("authentication required", refused.Output);

        await server.SetAnonymousPullAsync(true);
        (await InspectAnonymouslyAsync("public/toggle:1")).EnsureSuccess();
    }

    [Fact]
    public async Task StaleCredentials_FailWithLogoutAdvice_AndPullWorksAfterDroppingThem()
    {
        await PushAsync("public/stale");
        await server.SetAnonymousPullAsync(true);

        var stale = await SkopeoAsync("inspect", "--tls-verify=false", "--creds", $"{server.AdminUsername}:not-the-password", $"docker://{server.Host}/public/stale:1");
        Assert.NotEqual(0, stale.ExitCode);
        Assert.Contains($"docker logout {server.LoginServer}", stale.Output);

        (await InspectAnonymouslyAsync("public/stale:1")).EnsureSuccess();
    }

    [Fact]
    public async Task Patterns_SkopeoAndPodmanPullAPublicRepository_AndAreToldAPrivateOneIsNotPublic()
    {
        var image = await PushAsync("open/base");
        await PushAsync("closed/app");
        await server.Registries.UpdateAsync(server.RegistryName,
            new Berth.Core.Registries.RegistryPatch(AnonymousPullEnabled: true, AnonymousPullRepositories: ["open/*"]), "tests", CancellationToken.None);
        try
        {
            (await InspectAnonymouslyAsync("open/base:1")).EnsureSuccess();
            var pull = await PodmanAsync("pull", "--tls-verify=false", $"{server.Host}/open/base:1");
            pull.EnsureSuccess();
            var digest = await PodmanAsync("image", "inspect", "--format", "{{.Digest}}", $"{server.Host}/open/base:1");
            Assert.Equal(image.ManifestDigest, digest.EnsureSuccess().StandardOutput.Trim());

            var skopeo = await InspectAnonymouslyAsync("closed/app:1");
            Assert.NotEqual(0, skopeo.ExitCode);
            Assert.Contains("is not public", skopeo.Output);
            var podman = await PodmanAsync("pull", "--tls-verify=false", $"{server.Host}/closed/app:1");
            Assert.NotEqual(0, podman.ExitCode);
            Assert.Contains("is not public", podman.Output);
        }
        finally
        {
            await server.Registries.UpdateAsync(server.RegistryName,
                new Berth.Core.Registries.RegistryPatch(AnonymousPullEnabled: false, AnonymousPullRepositories: ["*"]), "tests", CancellationToken.None);
        }
    }

    [Fact]
    public async Task Patterns_ContainerdPullsAPublicRepository_AndIsRefusedAPrivateOne()
    {
        var image = await PushAsync("open/containerd");
        await PushAsync("closed/containerd");
        await server.Registries.UpdateAsync(server.RegistryName,
            new Berth.Core.Registries.RegistryPatch(AnonymousPullEnabled: true, AnonymousPullRepositories: ["open/*"]), "tests", CancellationToken.None);
        await using var containerd = await ContainerdServer.StartAsync();
        try
        {
            var pull = await containerd.CtrAsync("images", "pull", "--plain-http", "--snapshotter", "native", $"{server.Host}/open/containerd:1");
            Assert.True(pull.ExitCode == 0, pull.Output);
            var listed = await containerd.CtrAsync("images", "list", "--quiet");
            Assert.Contains($"{server.Host}/open/containerd:1", listed.EnsureSuccess().StandardOutput);
            var check = await containerd.CtrAsync("images", "check");
            Assert.Contains(image.ManifestDigest, check.EnsureSuccess().StandardOutput);

            var refused = await containerd.CtrAsync("images", "pull", "--plain-http", "--snapshotter", "native", $"{server.Host}/closed/containerd:1");
            Assert.NotEqual(0, refused.ExitCode);
            // containerd prints its own words for a refusal, not the server's message.
            Assert.Contains("pull access denied", refused.Output);
            Assert.Contains("insufficient_scope", refused.Output);
        }
        finally
        {
            await server.Registries.UpdateAsync(server.RegistryName,
                new Berth.Core.Registries.RegistryPatch(AnonymousPullEnabled: false, AnonymousPullRepositories: ["*"]), "tests", CancellationToken.None);
        }
    }

    private async Task<TestImage> PushAsync(string repository)
    {
        var image = new TestImage();
        await server.Client.PushImageAsync(repository, image, "1");
        return image;
    }

    private Task<ExternalToolResult> InspectAnonymouslyAsync(string reference) =>
        SkopeoAsync("inspect", "--tls-verify=false", "--no-creds", $"docker://{server.Host}/{reference}");

    private Task<ExternalToolResult> SkopeoAsync(params string[] arguments) =>
        ExternalTool.RunAsync("skopeo", ["--insecure-policy", .. arguments], new Dictionary<string, string> { ["REGISTRY_AUTH_FILE"] = AuthFile });

    private Task<ExternalToolResult> PodmanAsync(params string[] arguments) =>
        ExternalTool.RunAsync("podman",
            ["--root", Path.Combine(_work, "root"), "--runroot", Path.Combine(_work, "runroot"), "--storage-driver", "vfs", .. arguments],
            new Dictionary<string, string> { ["REGISTRY_AUTH_FILE"] = AuthFile });
}
