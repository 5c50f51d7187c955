using System.CommandLine;
using System.Text.Json.Nodes;
using Berth.Cli.Cli;
using Berth.Cli.Commands;
using Berth.Cli.Tests.Infrastructure;

namespace Berth.Cli.Tests.Commands;

/// <summary>What a newcomer meets: examples in every command's help, no -g needed, gc explaining what it keeps, plain progress lines in a pipe.</summary>
public sealed class FirstRunTests(LiveServer server) : IClassFixture<LiveServer>
{
    private static IEnumerable<(string Path, Command Command)> Commands()
    {
        var root = BerthCli.BuildRoot(new CliEnvironment { Out = TextWriter.Null, Error = TextWriter.Null, GetVariable = _ => null, CurrentDirectory = "/", HomeDirectory = "/" }, new GlobalOptions());
        return CommandExamples.Leaves(root, "").Where(l => l.Path != "serve");
    }

    [Fact]
    public async Task EveryCommandsHelp_HasAnExamplesSection_WhoseExamplesParse()
    {
        var cli = server.Cli("help");
        var paths = Commands().Select(c => c.Path).ToList();
        Assert.Contains("acr token credential generate", paths);
        Assert.Contains("acr update", paths);
        foreach (var path in paths)
        {
            var help = await cli.RunAsync([.. path.Split(' '), "--help"]);
            Assert.True(help.ExitCode == 0, $"{path}: {help}");
            Assert.Matches(new System.Text.RegularExpressions.Regex(@"^\s*Examples\s*$", System.Text.RegularExpressions.RegexOptions.Multiline), help.Out);
            var examples = Assert.Contains(path, CommandExamples.ByCommand);
            foreach (var (title, line) in examples)
            {
                Assert.Contains(title, help.Out);
                Assert.StartsWith($"berth {path} ", line + " ");
                var root = BerthCli.BuildRoot(new CliEnvironment { Out = TextWriter.Null, Error = TextWriter.Null, GetVariable = _ => null, CurrentDirectory = "/", HomeDirectory = "/" }, new GlobalOptions());
                var parsed = root.Parse(ShellWords(line).Skip(1).ToArray());
                Assert.True(parsed.Errors.Count == 0, $"{line}: {string.Join("; ", parsed.Errors.Select(e => e.Message))}");
                Assert.Equal(path.Split(' ')[^1], parsed.CommandResult.Command.Name);
            }
        }
    }

    [Fact]
    public async Task Create_WithoutGroup_UsesConfiguredDefaultGroup_ElseTheServersDefault()
    {
        var cli = server.Cli("defaults").Set("BERTH_CONFIG_DIR", Path.Combine(server.Folder.Path, "clients", "defaults", "berth-config"));
        Assert.Equal(0, (await cli.RunAsync("config", "set", "defaults.group=team")).ExitCode);
        Assert.Equal("team", (await cli.RunAsync("config", "get", "defaults.group", "--query", "value", "-o", "tsv")).Out.Trim());
        try
        {
            var grouped = await cli.RunAsync("acr", "create", "-n", "grouped1", "--sku", "Standard", "--query", "resourceGroup", "-o", "tsv");
            Assert.True(grouped.ExitCode == 0, grouped.ToString());
            Assert.Equal("team", grouped.Out.Trim());

            Assert.Equal(0, (await cli.RunAsync("config", "unset", "defaults.group")).ExitCode);
            var serverDefault = await cli.RunAsync("acr", "create", "-n", "grouped2", "--sku", "Standard", "--query", "resourceGroup", "-o", "tsv");
            Assert.True(serverDefault.ExitCode == 0, serverDefault.ToString());
            Assert.Equal("berth", serverDefault.Out.Trim());
        }
        finally
        {
            await cli.RunAsync("acr", "delete", "-n", "grouped1", "--yes");
            await cli.RunAsync("acr", "delete", "-n", "grouped2", "--yes");
        }

        var typo = await cli.RunAsync("config", "set", "default.group=team");
        Assert.Equal(CliException.UsageExitCode, typo.ExitCode);
        Assert.Equal("ERROR: 'default.group' is not a berth setting; known: defaults.group.", typo.Error.Trim());
    }

    [Fact]
    public async Task GcDryRun_AfterARepositoryDeletion_SaysWhatTheGracePeriodHoldsAndUntilWhen_WithPlainProgressLines()
    {
        await server.PushImageAsync("gc/held", "1");
        var cli = server.Cli("gc");
        Assert.Equal(0, (await cli.RunAsync("acr", "repository", "delete", "-n", "myregistry", "--repository", "gc/held", "--yes")).ExitCode);
        var before = DateTimeOffset.UtcNow;

        var gc = await cli.RunAsync("gc", "--dry-run");
        Assert.True(gc.ExitCode == 0, gc.ToString());
        var held = JsonNode.Parse(gc.Out)!["heldByGracePeriod"]!;
        Assert.True((int)held["blobs"]! >= 2, gc.Out); // the layer and the config, unlinked with the repository
        var until = DateTimeOffset.Parse((string)held["until"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(until, before.AddMinutes(55), before.AddHours(1).AddMinutes(1));
        var lines = gc.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal($"berth gc: finding what garbage collection would remove in every registry on {server.Address}...", lines[0]);
        Assert.StartsWith($"berth gc: finding what garbage collection would remove in every registry on {server.Address}: done in ", lines[1]);
        Assert.StartsWith("berth gc: the grace period (01:00:00) holds back ", lines[2]);
        Assert.Contains($"until {(string)held["until"]!}", lines[2]);
        Assert.DoesNotContain('\u001b', gc.Error); // no terminal control codes in a pipe
    }

    [Fact]
    public async Task PlainHttpStart_SaysInOneLineHowToEnableHttps_InsteadOfAzureCliSetupLines()
    {
        // Logged once the server listens, beside the requests the fixture waits for.
        for (var waited = 0; waited < 300 && !server.Output.Contains("need HTTPS", StringComparison.Ordinal); waited++) await Task.Delay(100);
        Assert.Contains(Berth.Server.Management.SignIn.AzureCliSetup.PlainHttpLine, server.Output);
        Assert.Single(server.Output.Split('\n'), l => l.Contains("need HTTPS", StringComparison.Ordinal));
        Assert.DoesNotContain("az cloud register", server.Output);
        Assert.False(File.Exists(Path.Combine(server.DataDirectory, "management", "az-setup.txt")));
    }

    [Fact]
    public async Task Fsck_NotOnATerminal_WritesPlainProgressLines()
    {
        var result = await server.Cli("fsck").RunAsync("fsck");
        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal($"berth fsck: re-hashing every blob and manifest on {server.Address}...", lines[0]);
        Assert.Matches(@"^berth fsck: re-hashing every blob and manifest on [0-9.:]+: done in [0-9.]+ s$", lines[1]);
        Assert.NotNull(JsonNode.Parse(result.Out));
    }

    /// <summary>Splits a command line as a POSIX shell would for these examples: spaces separate words, double quotes group.</summary>
    private static IEnumerable<string> ShellWords(string line)
    {
        var word = new System.Text.StringBuilder();
        var quoted = false;
        var any = false;
        foreach (var c in line)
        {
            if (c == '"') { quoted = !quoted; any = true; continue; }
            if (c == ' ' && !quoted)
            {
                if (any) yield return word.ToString();
                word.Clear();
                any = false;
                continue;
            }
            word.Append(c);
            any = true;
        }
        if (any) yield return word.ToString();
    }
}
