using System.Text;
using System.Text.Json.Nodes;
using Berth.Cli.Cli;
using Berth.Cli.Credentials;
using Berth.Cli.Tests.Infrastructure;

namespace Berth.Cli.Tests.Credentials;

public sealed class AuthFilesTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string File(string name) => Path.Combine(_folder.Path, name);

    private static CliEnvironment Environment(Dictionary<string, string> variables, string home = "/home/u") => new()
    {
        Out = TextWriter.Null,
        Error = TextWriter.Null,
        GetVariable = n => variables.GetValueOrDefault(n),
        CurrentDirectory = "/",
        HomeDirectory = home,
        ContainersRunDirectory = "/run/containers/1000",
    };

    [Fact]
    public void Store_KeepsOtherEntriesAndUnknownFields()
    {
        var path = File("config.json");
        System.IO.File.WriteAllText(path, """{"auths":{"other:5000":{"auth":"b3RoZXI6cA==","email":"x@y"}},"credHelpersX":{"a":"b"},"detachKeys":"ctrl-p","n":1.50}""");
        AuthFiles.Store(path, "myregistry.acr.localhost", "user", "pa:ss");
        var json = JsonNode.Parse(System.IO.File.ReadAllText(path))!;
        Assert.Equal("""{"auth":"b3RoZXI6cA==","email":"x@y"}""", json["auths"]!["other:5000"]!.ToJsonString());
        Assert.Equal("ctrl-p", (string?)json["detachKeys"]);
        Assert.Contains("1.50", System.IO.File.ReadAllText(path));
        Assert.Equal("user:pa:ss", Encoding.UTF8.GetString(Convert.FromBase64String((string)json["auths"]!["myregistry.acr.localhost"]!["auth"]!)));
    }

    [Fact]
    public void Store_CreatesTheFileAndFolderPrivately()
    {
        var path = Path.Combine(_folder.Path, "new", "auth.json");
        AuthFiles.Store(path, "r:1", "u", "p");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, System.IO.File.GetUnixFileMode(path));
        Assert.Equal("u", AuthFiles.StoredUser(path, "r:1"));
    }

    [Fact]
    public void Store_KeepsAnExistingFileMode()
    {
        var path = File("auth.json");
        System.IO.File.WriteAllText(path, "{}");
        System.IO.File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        AuthFiles.Store(path, "r:1", "u", "p");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, System.IO.File.GetUnixFileMode(path));
    }

    [Fact]
    public void Remove_TakesOutExactlyThatEntry()
    {
        var path = File("auth.json");
        System.IO.File.WriteAllText(path, """{"auths":{"a:1":{"auth":"YTpi"},"myregistry.acr.localhost":{"auth":"eDp5"},"myregistry.acr.localhost.evil":{"auth":"eDp5"}},"x":[1]}""");
        Assert.True(AuthFiles.Remove(path, "myregistry.acr.localhost"));
        var json = JsonNode.Parse(System.IO.File.ReadAllText(path))!;
        Assert.Equal(["a:1", "myregistry.acr.localhost.evil"], json["auths"]!.AsObject().Select(p => p.Key));
        Assert.Equal("[1]", json["x"]!.ToJsonString());
    }

    [Fact]
    public void Remove_WhenAbsent_LeavesTheFileUntouched()
    {
        var path = File("auth.json");
        const string original = """{ "auths": { "a:1": { "auth": "YTpi" } } }""";
        System.IO.File.WriteAllText(path, original);
        Assert.False(AuthFiles.Remove(path, "b:2"));
        Assert.False(AuthFiles.Remove(File("missing.json"), "b:2"));
        Assert.Equal(original, System.IO.File.ReadAllText(path));
        Assert.False(System.IO.File.Exists(File("missing.json")));
    }

    [Fact]
    public void InvalidJson_IsAnErrorAndTheFileStays()
    {
        var path = File("config.json");
        System.IO.File.WriteAllText(path, "{not json");
        var error = Assert.Throws<CliException>(() => AuthFiles.Store(path, "r:1", "u", "p"));
        Assert.Contains("not valid JSON", error.Message);
        Assert.Equal("{not json", System.IO.File.ReadAllText(path));
    }

    [Fact]
    public void Paths_HonourDockerConfigAndRegistryAuthFile()
    {
        var env = Environment(new() { ["DOCKER_CONFIG"] = "/d", ["REGISTRY_AUTH_FILE"] = "/r/auth.json", ["XDG_RUNTIME_DIR"] = "/run/user/1" });
        Assert.Equal(["/d/config.json", "/r/auth.json"], AuthFiles.Paths(env));
    }

    [Fact]
    public void Paths_FallBackToRuntimeDirThenTheRunFolder()
    {
        Assert.Equal("/run/user/1/containers/auth.json", AuthFiles.ContainersAuthPath(Environment(new() { ["XDG_RUNTIME_DIR"] = "/run/user/1" })));
        var home = Environment(new());
        // skopeo and podman without XDG_RUNTIME_DIR (root outside a login session) write /run/containers/$UID/auth.json.
        Assert.Equal("/run/containers/1000/auth.json", AuthFiles.ContainersAuthPath(home));
        Assert.Equal("/home/u/.config/containers/auth.json", AuthFiles.ContainersConfigAuthPath(home));
        Assert.Equal("/home/u/.docker/config.json", AuthFiles.DockerConfigPath(home));
        Assert.Equal("/x/containers/auth.json", AuthFiles.ContainersConfigAuthPath(Environment(new() { ["XDG_CONFIG_HOME"] = "/x" })));
    }

    [Fact]
    public void AllPaths_ListEveryFileTheToolsRead_InTheirOrder()
    {
        var env = Environment(new() { ["DOCKER_CONFIG"] = "/d", ["REGISTRY_AUTH_FILE"] = "/r/auth.json", ["XDG_RUNTIME_DIR"] = "/run/user/1" });
        Assert.Equal(["/r/auth.json", "/run/user/1/containers/auth.json", "/run/containers/1000/auth.json", "/home/u/.config/containers/auth.json", "/d/config.json"],
            AuthFiles.AllPaths(env));
        Assert.Equal(["/run/containers/1000/auth.json", "/home/u/.config/containers/auth.json", "/home/u/.docker/config.json"], AuthFiles.AllPaths(Environment(new())));
    }
}
