namespace Berth.Server.Tests.TokenService;

/// <summary>podman login with the admin's credentials into a private auth file, then push and pull with no credentials on the command line.</summary>
public sealed class PodmanLoginTests(UnthrottledBerthTestServer server) : IClassFixture<UnthrottledBerthTestServer>, IDisposable
{
    private readonly ClientSandbox _sandbox = new();

    public void Dispose() => _sandbox.Dispose();

    private async Task<string> ImageIdAsync(string reference) =>
        (await _sandbox.PodmanAsync(["image", "inspect", "--format", "{{.Id}}", reference])).EnsureSuccess().StandardOutput.Trim();

    [Fact]
    public async Task PodmanLoginThenPushAndPull_RoundTripsTheImage()
    {
        var image = new TestImage();
        var layout = _sandbox.Combine("layout");
        image.WriteLayout(layout, "1");
        var remote = $"{server.Host}/clients/podman:1";

        // podman pull prints the image id as its last line.
        var local = (await _sandbox.PodmanAsync(["pull", $"oci:{layout}:1"])).EnsureSuccess();
        var localId = local.StandardOutput.Trim().Split('\n')[^1].Trim();
        Assert.Equal(image.ConfigDigest["sha256:".Length..], localId);

        var login = await _sandbox.PodmanAsync(["login", "--tls-verify=false", "--authfile", _sandbox.AuthFile,
            "--username", server.AdminUsername, "--password", server.AdminPassword, server.Host], server.AdminPassword);
        Assert.True(login.ExitCode == 0, login.Describe());
        Assert.Contains("Login Succeeded", login.StandardOutput);
        Assert.Contains(server.Host, await File.ReadAllTextAsync(_sandbox.AuthFile));

        var push = await _sandbox.PodmanAsync(["push", "--tls-verify=false", "--authfile", _sandbox.AuthFile, localId, $"docker://{remote}"]);
        Assert.True(push.ExitCode == 0, push.Describe());
        (await _sandbox.PodmanAsync(["rmi", "--force", localId])).EnsureSuccess();

        var pull = await _sandbox.PodmanAsync(["pull", "--tls-verify=false", "--authfile", _sandbox.AuthFile, remote]);
        Assert.True(pull.ExitCode == 0, pull.Describe());
        Assert.Equal(localId, await ImageIdAsync(remote));
    }

    [Fact]
    public async Task PodmanLoginWithWrongPassword_FailsAndStoresNothing()
    {
        var login = await _sandbox.PodmanAsync(["login", "--tls-verify=false", "--authfile", _sandbox.AuthFile,
            "--username", server.AdminUsername, "--password", "wrong-password", server.Host]);
        Assert.True(login.ExitCode != 0, login.Describe());
        Assert.True(login.StandardError.Contains("invalid username/password"), login.Describe());
        Assert.DoesNotContain(server.Host, await File.ReadAllTextAsync(_sandbox.AuthFile));
    }
}
