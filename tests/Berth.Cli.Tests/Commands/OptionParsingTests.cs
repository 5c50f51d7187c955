using System.Net;
using System.Text.Json.Nodes;
using Berth.Cli.Commands;
using Berth.Cli.Tests.Infrastructure;

namespace Berth.Cli.Tests.Commands;

/// <summary>Option names, aliases and az's argument conventions, observed through the request bodies sent to a stub server.</summary>
public sealed class OptionParsingTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly List<(string Method, string Path, string? Body)> _sent = [];
    private readonly CliRun _cli;

    public OptionParsingTests()
    {
        StubHandler.WriteDataFolder(Path.Combine(_folder.Path, "data"));
        _cli = new CliRun(_folder.Path);
        _cli.Handler = () => new StubHandler(StubHandler.Arm(request =>
        {
            var body = request.Content?.ReadAsStringAsync().Result;
            lock (_sent)
            {
                _sent.Add((request.Method.Method, request.RequestUri!.AbsolutePath, body));
            }
            var path = request.RequestUri!.AbsolutePath;
            if (path.EndsWith("/registries/myregistry", StringComparison.Ordinal))
            {
                return StubHandler.Json(HttpStatusCode.OK, """{"id":"/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myregistry","name":"myregistry","properties":{"loginServer":"myregistry.acr.localhost"}}""");
            }
            return StubHandler.Json(HttpStatusCode.OK, """{"id":"/subscriptions/sub1/resourceGroups/rg/providers/x/registries/myregistry/scopeMaps/m","properties":{}}""");
        }));
    }

    public void Dispose() => _folder.Dispose();

    private JsonNode? Patch => JsonNode.Parse(_sent.Last(s => s.Method == "PATCH").Body!);

    [Fact]
    public async Task AnonymousPullEnabled_BareFlagMeansTrue()
    {
        var result = await _cli.RunAsync("acr", "update", "--name", "myregistry", "--anonymous-pull-enabled");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""{"properties":{"anonymousPullEnabled":true}}""", Patch!.ToJsonString());
    }

    [Fact]
    public async Task AnonymousPullEnabled_TakesFalse()
    {
        var result = await _cli.RunAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-enabled", "false");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""{"properties":{"anonymousPullEnabled":false}}""", Patch!.ToJsonString());
    }

    [Theory]
    [InlineData("yes", true)]
    [InlineData("No", false)]
    [InlineData("ON", true)]
    [InlineData("off", false)]
    [InlineData("1", true)]
    [InlineData("0", false)]
    [InlineData("TRUE", true)]
    public async Task AnonymousPullEnabled_TakesAzSpellings(string word, bool expected)
    {
        var result = await _cli.RunAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-enabled", word);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(expected, Patch!["properties"]!["anonymousPullEnabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task AnonymousPullEnabled_RejectsOtherWords()
    {
        var result = await _cli.RunAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-enabled", "maybe");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("ERROR: ", result.Error);
        Assert.Contains("maybe", result.Error);
        Assert.Contains("--anonymous-pull-enabled: expected one of true, false, yes, no, on, off, 1, 0", result.Error);
        Assert.DoesNotContain(_sent, s => s.Method == "PATCH");
    }

    [Fact]
    public async Task Update_SendsOnlyTheChangedFields()
    {
        var result = await _cli.RunAsync("acr", "update", "-n", "myregistry", "--admin-enabled", "true", "--sku", "premium");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("""{"sku":{"name":"Premium"},"properties":{"adminUserEnabled":true}}""", Patch!.ToJsonString());
    }

    [Fact]
    public async Task ResourceGroupGiven_SkipsTheResourcesList()
    {
        var result = await _cli.RunAsync("acr", "show", "-n", "myregistry", "-g", "rg");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain(_sent, s => s.Path.EndsWith("/resources", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Repository_RepeatsIntoSeparateGroups()
    {
        var result = await _cli.RunAsync("acr", "scope-map", "create", "-n", "m", "-r", "myregistry",
            "--repository", "hello", "content/read", "content/write", "--repository", "other/x", "metadata/read", "--description", "d");
        Assert.True(result.ExitCode == 0, result.ToString());
        var put = JsonNode.Parse(_sent.Single(s => s.Method == "PUT").Body!);
        Assert.Equal("""["repositories/hello/content/read","repositories/hello/content/write","repositories/other/x/metadata/read"]""", put!["properties"]!["actions"]!.ToJsonString());
        Assert.Equal("d", (string?)put["properties"]!["description"]);
    }

    [Fact]
    public async Task Repository_UnknownActionIsAUsageError()
    {
        var result = await _cli.RunAsync("acr", "scope-map", "create", "-n", "m", "-r", "myregistry", "--repository", "hello", "content/push");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("content/push", result.Error);
        Assert.DoesNotContain(_sent, s => s.Method == "PUT");
    }

    [Fact]
    public async Task TokenCreate_ScopeMapAndRepositoryAreExclusive()
    {
        var result = await _cli.RunAsync("acr", "token", "create", "-n", "t", "-r", "myregistry", "--scope-map", "m", "--repository", "a", "content/read");
        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task TokenCredentialGenerate_NamesThePasswordOnlyWhenOneIsAsked()
    {
        await _cli.RunAsync("acr", "token", "credential", "generate", "-n", "t", "-r", "myregistry", "--password2");
        await _cli.RunAsync("acr", "token", "credential", "generate", "-n", "t", "-r", "myregistry");
        var posts = _sent.Where(s => s.Path.EndsWith("/generateCredentials", StringComparison.Ordinal)).Select(s => JsonNode.Parse(s.Body!)!).ToList();
        Assert.Equal("password2", (string?)posts[0]["name"]);
        Assert.Null(posts[1]["name"]);
    }

    [Fact]
    public async Task Create_RequiresSku()
    {
        var result = await _cli.RunAsync("acr", "create", "-n", "newone1", "-g", "rg");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--sku", result.Error);
    }

    [Fact]
    public async Task Output_UnknownFormatIsAUsageError()
    {
        var result = await _cli.RunAsync("acr", "show", "-n", "myregistry", "-o", "yaml");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("ERROR: ", result.Error);
    }

    [Fact]
    public async Task UnknownCommand_IsAUsageError()
    {
        var result = await _cli.RunAsync("acr", "frobnicate");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("ERROR: ", result.Error);
    }

    [Fact]
    public async Task MisspelledCommand_SuggestsTheClosestSibling()
    {
        var result = await _cli.RunAsync("acr", "updte");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("ERROR: 'updte' is misspelled or not recognized by the system. Did you mean 'update'?", result.Error);
    }

    [Fact]
    public async Task MisspelledSubcommand_SuggestsFromItsOwnGroup()
    {
        var result = await _cli.RunAsync("acr", "token", "creat", "-n", "t", "-r", "myregistry");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("ERROR: 'creat' is misspelled or not recognized by the system. Did you mean 'create'?", result.Error);
        Assert.Contains("berth acr token --help", result.Error);
    }

    [Fact]
    public async Task MisspelledGroup_FollowedByAKnownCommandName_SuggestsTheGroup()
    {
        // The parser matches 'acr list' here; the mistyped word still stands for one of acr's commands.
        var result = await _cli.RunAsync("acr", "tokn", "list", "-r", "myregistry");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("ERROR: 'tokn' is misspelled or not recognized by the system. Did you mean 'token'?", result.Error);
        Assert.Contains("Run 'berth acr --help' for usage.", result.Error);
    }

    [Fact]
    public async Task UnknownCommand_FarFromEveryName_SuggestsNothing()
    {
        var result = await _cli.RunAsync("acr", "frobnicate");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("ERROR: 'frobnicate' is misspelled or not recognized by the system.", result.Error);
        Assert.DoesNotContain("Did you mean", result.Error);
    }

    [Fact]
    public async Task Delete_WithoutYesAndWithoutTerminal_Refuses()
    {
        var result = await _cli.RunAsync("acr", "delete", "-n", "myregistry");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--yes", result.Error);
        Assert.DoesNotContain(_sent, s => s.Method == "DELETE");
    }

    [Theory]
    [InlineData("hello:v1", "hello", "v1", null)]
    [InlineData("library/hello@sha256:abc", "library/hello", null, "sha256:abc")]
    [InlineData("localhost/x", "localhost/x", "latest", null)]
    public void Image_IsParsedAsAzDoes(string image, string repository, string? tag, string? digest)
    {
        Assert.Equal((repository, tag, digest), RepositoryCommands.ParseImage(image));
    }
}
