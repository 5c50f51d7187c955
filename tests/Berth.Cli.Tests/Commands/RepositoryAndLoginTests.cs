using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Berth.Cli.Tests.Infrastructure;
using Berth.Testing;

namespace Berth.Cli.Tests.Commands;

/// <summary>
/// The documentation flow with the real executable, login/logout with skopeo, and the repository commands.
/// One server for the class; each test leaves anonymous pull off.
/// </summary>
public sealed class RepositoryAndLoginTests : IClassFixture<LiveServer>
{
    private readonly LiveServer _server;

    public RepositoryAndLoginTests(LiveServer server) => _server = server;

    [Fact]
    public async Task DocumentationFlow_VerbatimWithTheExecutable()
    {
        var cli = _server.Cli("docs");
        var on = await cli.RunProcessAsync("acr", "update", "--name", "myregistry", "--anonymous-pull-enabled");
        Assert.True(on.ExitCode == 0, on.ToString());
        Assert.True((bool)JsonNode.Parse(on.Out)!["anonymousPullEnabled"]!);

        var off = await cli.RunProcessAsync("acr", "update", "--name", "myregistry", "--anonymous-pull-enabled", "false");
        Assert.True(off.ExitCode == 0, off.ToString());

        var show = await cli.RunProcessAsync("acr", "show", "-n", "myregistry", "--query", "anonymousPullEnabled");
        Assert.Equal(0, show.ExitCode);
        Assert.Equal("false\n", show.Out);
        Assert.Equal("false\n", (await cli.RunProcessAsync("acr", "show", "-n", "myregistry", "--query", "anonymousPullEnabled", "-o", "tsv")).Out);
    }

    [Fact]
    public async Task PublishOneRepository_PatternsAreSetShownAndClearedWithTheExecutable()
    {
        var cli = _server.Cli("publish");
        var set = await cli.RunProcessAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-enabled", "true",
            "--anonymous-pull-repositories", "public/*", "docs/site");
        Assert.True(set.ExitCode == 0, set.ToString());
        try
        {
            var shown = await cli.RunProcessAsync("acr", "show", "-n", "myregistry", "--query", "anonymousPullRepositories");
            Assert.Equal(["public/*", "docs/site"], JsonNode.Parse(shown.Out)!.AsArray().Select(p => p!.GetValue<string>()));

            var invalid = await cli.RunProcessAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-repositories", "public/../x");
            Assert.NotEqual(0, invalid.ExitCode);
            Assert.Contains("invalid", invalid.Error);

            var check = await cli.RunProcessAsync("acr", "check-access", "-n", "myregistry", "--repository", "public/base", "--anonymous", "-o", "table");
            Assert.True(check.ExitCode == 0, check.ToString());
            Assert.Contains("pull", check.Out);
            Assert.Contains("anonymous pull pattern \"public/*\"", check.Out);
            var both = await cli.RunProcessAsync("acr", "check-access", "-n", "myregistry", "--repository", "public/base", "--anonymous", "--admin");
            Assert.NotEqual(0, both.ExitCode);
            Assert.Contains("exactly one", both.Error);

            var all = await cli.RunProcessAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-repositories", "*");
            Assert.True(all.ExitCode == 0, all.ToString());
            Assert.Equal("null\n", (await cli.RunProcessAsync("acr", "show", "-n", "myregistry", "--query", "anonymousPullRepositories")).Out);
        }
        finally
        {
            await cli.RunProcessAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-enabled", "false", "--anonymous-pull-repositories", "*", "-o", "none");
        }
    }

    [Fact]
    public async Task Serve_StillRunsFromTheSameExecutable()
    {
        var help = await _server.Cli("serve").RunProcessAsync("serve", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--data", help.Out);
    }

    [Fact]
    public async Task LoginLogout_SkopeoUsesTheStoredCredentialThenGoesAnonymous()
    {
        if (!File.Exists("/usr/bin/skopeo"))
        {
            return; // scripts/test.sh installs skopeo; without it the CLI side is covered by the other tests
        }
        await _server.PushImageAsync("samples/hello", "1");
        var cli = _server.Cli("skopeo");
        var authFile = cli.Get("REGISTRY_AUTH_FILE")!;
        Directory.CreateDirectory(Path.GetDirectoryName(authFile)!);
        File.WriteAllText(authFile, """{"auths":{"unrelated.example:5000":{"auth":"dTpw"}},"extra":true}""");

        var login = await cli.RunAsync("acr", "login", "-n", _server.Address);
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.Contains("Login Succeeded", login.Out);
        var skopeo = await SkopeoInspectAsync(authFile, "samples/hello:1");
        Assert.True(skopeo.ExitCode == 0, skopeo.Output);

        Assert.Equal(0, (await cli.RunAsync("acr", "logout", "-n", _server.Address)).ExitCode);
        var json = JsonNode.Parse(File.ReadAllText(authFile))!;
        Assert.Equal(["unrelated.example:5000"], json["auths"]!.AsObject().Select(p => p.Key));
        Assert.True((bool)json["extra"]!);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(cli.Get("DOCKER_CONFIG")!, "config.json")));

        Assert.NotEqual(0, (await SkopeoInspectAsync(authFile, "samples/hello:1")).ExitCode);
        Assert.Equal(0, (await cli.RunAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-enabled", "-o", "none")).ExitCode);
        try
        {
            var anonymous = await SkopeoInspectAsync(authFile, "samples/hello:1");
            Assert.True(anonymous.ExitCode == 0, anonymous.Output);
        }
        finally
        {
            await cli.RunAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-enabled", "false", "-o", "none");
        }
    }

    /// <summary>
    /// skopeo as it runs for root outside a login session (no XDG_RUNTIME_DIR, no REGISTRY_AUTH_FILE) keeps credentials in
    /// the machine's own /run/containers/$UID/auth.json. Only this test's entry (its server's random port) is touched there;
    /// HOME is a scratch folder, so ~/.config and ~/.docker are the test's.
    /// </summary>
    [Fact]
    public async Task Logout_RemovesWhatSkopeoStoredInTheRunFolder_AndLoginWritesWhereSkopeoReads()
    {
        Assert.True(ExternalTool.IsInstalled("skopeo"), "skopeo is not installed (scripts/test.sh installs it)");
        var cli = _server.Cli("runfolder").Set("REGISTRY_AUTH_FILE", null).Set("DOCKER_CONFIG", null);
        cli.ContainersRunDirectory = Berth.Cli.Cli.CliEnvironment.FromProcess().ContainersRunDirectory;
        var runAuthFile = Path.Combine(cli.ContainersRunDirectory, "auth.json");
        var (user, password) = _server.AdminCredentials();
        Task<ExternalToolResult> Skopeo(params string[] arguments) => ExternalTool.RunAsync("env",
            ["-u", "XDG_RUNTIME_DIR", "-u", "REGISTRY_AUTH_FILE", "-u", "DOCKER_CONFIG", $"HOME={cli.Home}", "skopeo", .. arguments], redact: [password]);
        try
        {
            var skopeoLogin = await Skopeo("login", "--tls-verify=false", "-u", user, "-p", password, _server.Address);
            Assert.True(skopeoLogin.ExitCode == 0, skopeoLogin.Describe());
            Assert.NotNull(JsonNode.Parse(File.ReadAllText(runAuthFile))!["auths"]![_server.Address]);

            var logout = await cli.RunAsync("acr", "logout", "-n", _server.Address);
            Assert.True(logout.ExitCode == 0, logout.ToString());
            Assert.DoesNotContain("Not logged in", logout.Error);
            Assert.Null(JsonNode.Parse(File.ReadAllText(runAuthFile))!["auths"]?[_server.Address]);
            Assert.NotEqual(0, (await Skopeo("login", "--get-login", _server.Address)).ExitCode);

            var login = await cli.RunAsync("acr", "login", "-n", _server.Address, "-u", user, "-p", password);
            Assert.True(login.ExitCode == 0, login.ToString());
            var stored = await Skopeo("login", "--get-login", _server.Address);
            Assert.True(stored.ExitCode == 0, stored.Describe());
            Assert.Equal(user, stored.StandardOutput.Trim());
            Assert.True(File.Exists(Path.Combine(cli.Home, ".docker", "config.json")));

            Assert.Equal(0, (await cli.RunAsync("acr", "logout", "-n", _server.Address)).ExitCode);
            Assert.NotEqual(0, (await Skopeo("login", "--get-login", _server.Address)).ExitCode);
            Assert.False(JsonNode.Parse(File.ReadAllText(Path.Combine(cli.Home, ".docker", "config.json")))!["auths"]!.AsObject().ContainsKey(_server.Address));
        }
        finally
        {
            await Skopeo("logout", _server.Address);
        }
    }

    [Fact]
    public async Task Login_WithUsernameAndPassword_StoresThem()
    {
        var cli = _server.Cli("userpass");
        var (user, password) = _server.AdminCredentials();
        var login = await cli.RunAsync("acr", "login", "-n", _server.Address, "-u", user, "-p", password);
        Assert.True(login.ExitCode == 0, login.ToString());
        var auth = (string)JsonNode.Parse(File.ReadAllText(cli.Get("REGISTRY_AUTH_FILE")!))!["auths"]![_server.Address]!["auth"]!;
        Assert.Equal($"{user}:{password}", Encoding.UTF8.GetString(Convert.FromBase64String(auth)));

        var wrong = await cli.RunAsync("acr", "login", "-n", _server.Address, "-u", user, "-p", "not-the-password");
        Assert.Equal(1, wrong.ExitCode);
        Assert.StartsWith("ERROR: ", wrong.Error);
    }

    [Fact]
    public async Task Login_ExposeToken_PrintsTheRefreshTokenAndStoresNothing()
    {
        var cli = _server.Cli("expose");
        var result = await cli.RunAsync("acr", "login", "-n", "myregistry", "--expose-token");
        Assert.True(result.ExitCode == 0, result.ToString());
        var json = JsonNode.Parse(result.Out)!;
        Assert.Equal("myregistry.acr.localhost", (string?)json["loginServer"]);
        Assert.Equal(3, ((string)json["accessToken"]!).Split('.').Length);
        Assert.False(File.Exists(cli.Get("REGISTRY_AUTH_FILE")!));
    }

    [Fact]
    public async Task Login_ByName_StoresTheNullGuidUserUnderTheLoginServer()
    {
        var cli = _server.Cli("byname");
        Assert.Equal(0, (await cli.RunAsync("acr", "login", "-n", "myregistry")).ExitCode);
        var docker = JsonNode.Parse(File.ReadAllText(Path.Combine(cli.Get("DOCKER_CONFIG")!, "config.json")))!;
        var auth = Encoding.UTF8.GetString(Convert.FromBase64String((string)docker["auths"]!["myregistry.acr.localhost"]!["auth"]!));
        Assert.StartsWith("00000000-0000-0000-0000-000000000000:", auth);
        Assert.Equal(0, (await cli.RunAsync("acr", "logout", "-n", "myregistry")).ExitCode);
        docker = JsonNode.Parse(File.ReadAllText(Path.Combine(cli.Get("DOCKER_CONFIG")!, "config.json")))!;
        Assert.Empty(docker["auths"]!.AsObject());
    }

    [Fact]
    public async Task Repository_ListShowTagsManifestsUpdateUntagDelete()
    {
        var digest = await _server.PushImageAsync("repocmds/app", "v1");
        await _server.PushImageAsync("repocmds/app", "v2");
        var cli = _server.Cli("repos");

        var list = await cli.RunAsync("acr", "repository", "list", "-n", "myregistry");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("repocmds/app", JsonNode.Parse(list.Out)!.AsArray().Select(r => (string?)r));

        var (user, password) = _server.AdminCredentials();
        var withPassword = await cli.RunAsync("acr", "repository", "list", "-n", "myregistry", "-u", user, "-p", password, "-o", "tsv");
        Assert.Contains("repocmds/app\n", withPassword.Out);

        var tags = await cli.RunAsync("acr", "repository", "show-tags", "-n", "myregistry", "--repository", "repocmds/app");
        Assert.True(tags.ExitCode == 0, tags.ToString());
        Assert.Equal(["v1", "v2"], JsonNode.Parse(tags.Out)!.AsArray().Select(t => (string?)t).Order());

        var detail = await cli.RunAsync("acr", "repository", "show-tags", "-n", "myregistry", "--repository", "repocmds/app", "--detail", "--orderby", "time_asc", "--top", "1");
        Assert.True(detail.ExitCode == 0, detail.ToString());
        Assert.Equal(digest, (string?)JsonNode.Parse(detail.Out)!.AsArray().Single()!["digest"]);

        var manifests = await cli.RunAsync("acr", "repository", "show-manifests", "-n", "myregistry", "--repository", "repocmds/app", "--query", "[].digest");
        Assert.True(manifests.ExitCode == 0, manifests.ToString());
        Assert.Contains(digest, JsonNode.Parse(manifests.Out)!.AsArray().Select(d => (string?)d));

        var repository = await cli.RunAsync("acr", "repository", "show", "-n", "myregistry", "--repository", "repocmds/app");
        Assert.True(repository.ExitCode == 0, repository.ToString());
        Assert.Equal(2, (int?)JsonNode.Parse(repository.Out)!["tagCount"]);

        var locked = await cli.RunAsync("acr", "repository", "update", "-n", "myregistry", "--image", "repocmds/app:v2", "--delete-enabled", "false");
        Assert.True(locked.ExitCode == 0, locked.ToString());
        var refused = await cli.RunAsync("acr", "repository", "untag", "-n", "myregistry", "--image", "repocmds/app:v2");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.StartsWith("ERROR: ", refused.Error);
        Assert.Equal(0, (await cli.RunAsync("acr", "repository", "update", "-n", "myregistry", "--image", "repocmds/app:v2", "--delete-enabled", "true")).ExitCode);

        var untag = await cli.RunAsync("acr", "repository", "untag", "-n", "myregistry", "--image", "repocmds/app:v2");
        Assert.True(untag.ExitCode == 0, untag.ToString());
        var show = await cli.RunAsync("acr", "repository", "show", "-n", "myregistry", "--image", "repocmds/app:v1");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Equal(digest, (string?)JsonNode.Parse(show.Out)!["digest"]);

        var deleteImage = await cli.RunAsync("acr", "repository", "delete", "-n", "myregistry", "--image", "repocmds/app:v1", "--yes");
        Assert.True(deleteImage.ExitCode == 0, deleteImage.ToString());
        await _server.PushImageAsync("repocmds/app", "v3");
        var deleteRepository = await cli.RunAsync("acr", "repository", "delete", "-n", "myregistry", "--repository", "repocmds/app", "--yes");
        Assert.True(deleteRepository.ExitCode == 0, deleteRepository.ToString());
        var after = await cli.RunAsync("acr", "repository", "list", "-n", "myregistry");
        Assert.DoesNotContain("repocmds/app", JsonNode.Parse(after.Out)!.AsArray().Select(r => (string?)r));
    }

    [Fact]
    public async Task RepositoryShowAndShowTags_CarryPullCounts()
    {
        await _server.PushImageAsync("repocmds/pulls", "v1");
        var cli = _server.Cli("pulls");

        var repository = await cli.RunAsync("acr", "repository", "show", "-n", "myregistry", "--repository", "repocmds/pulls");
        Assert.True(repository.ExitCode == 0, repository.ToString());
        Assert.Equal(0, (long?)JsonNode.Parse(repository.Out)!["pullCount"]);
        var repositoryTable = await cli.RunAsync("acr", "repository", "show", "-n", "myregistry", "--repository", "repocmds/pulls", "-o", "table");
        Assert.Contains("PullCount", repositoryTable.Out);
        Assert.Contains("LastPullTime", repositoryTable.Out);

        var tags = await cli.RunAsync("acr", "repository", "show-tags", "-n", "myregistry", "--repository", "repocmds/pulls", "--detail");
        Assert.True(tags.ExitCode == 0, tags.ToString());
        Assert.Equal(0, (long?)JsonNode.Parse(tags.Out)!.AsArray().Single()!["anonymousPullCount"]);
        var tagsTable = await cli.RunAsync("acr", "repository", "show-tags", "-n", "myregistry", "--repository", "repocmds/pulls", "--detail", "-o", "table");
        Assert.Contains("PullCount", tagsTable.Out);
    }

    private async Task<(int ExitCode, string Output)> SkopeoInspectAsync(string authFile, string image)
    {
        var start = new ProcessStartInfo("skopeo") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "inspect", "--raw", "--tls-verify=false", "--authfile", authFile, $"docker://{_server.Address}/{image}" })
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["DOCKER_CONFIG"] = Path.Combine(Path.GetDirectoryName(authFile)!, "no-docker");
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
