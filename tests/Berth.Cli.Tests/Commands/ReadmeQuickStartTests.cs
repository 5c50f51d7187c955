using System.Text.RegularExpressions;
using Berth.Cli.Tests.Infrastructure;
using Berth.Testing;

namespace Berth.Cli.Tests.Commands;

/// <summary>
/// The README's quick start, replayed: the shell block marked <c>quick-start</c> runs as written with bash, in a folder laid
/// out like a clone (its <c>scripts</c> are the repository's, its <c>data</c> is a running server's), so the installed
/// <c>berth</c> command, the image made with umoci and every skopeo and berth line are the ones a reader types. Only the
/// port differs: the block's 127.0.0.1:5000 becomes this server's address. HOME and XDG_RUNTIME_DIR are scratch folders,
/// so neither the installed command nor a stored credential reaches the machine's own files.
/// </summary>
public sealed class ReadmeQuickStartTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task QuickStartBlock_RunsAsWritten()
    {
        foreach (var tool in new[] { "skopeo", "umoci", "jq" })
            Assert.True(ExternalTool.IsInstalled(tool), $"{tool} is not installed (scripts/test.sh installs it)");
        var repository = RepositoryRoot();
        var block = QuickStartBlock(File.ReadAllText(Path.Combine(repository, "README.md")));
        Assert.Contains("scripts/install.sh", block);
        Assert.Contains("127.0.0.1:5000", block);

        var work = _folder.Path;
        using var server = new BerthProcess(Path.Combine(work, "data")) { WorkingDirectory = work, RequiredFiles = [Path.Combine("management", "endpoint.json")] };
        await server.StartAsync();
        Directory.CreateSymbolicLink(Path.Combine(work, "scripts"), Path.Combine(repository, "scripts"));
        var home = Directory.CreateDirectory(Path.Combine(work, "home")).FullName;
        var runtime = Directory.CreateDirectory(Path.Combine(work, "run")).FullName;
        File.WriteAllText(Path.Combine(work, "quick-start.sh"), "set -euo pipefail\n" + block.Replace("127.0.0.1:5000", server.Address));

        var realHome = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var result = await ExternalTool.RunAsync("bash", ["quick-start.sh"], new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["XDG_RUNTIME_DIR"] = runtime,
            // The restore the install's publish runs finds every package where the build put them: no download.
            ["NUGET_PACKAGES"] = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(realHome, ".nuget", "packages"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        }, timeout: TimeSpan.FromMinutes(8), workingDirectory: work);

        Assert.True(result.ExitCode == 0, result.Describe());
        Assert.True(File.Exists(Path.Combine(home, ".local", "bin", "berth")), result.Describe());
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains("Login Succeeded!", lines);
        Assert.Contains("false", lines); // berth acr show --query anonymousPullEnabled, after switching it off
        Assert.Contains("\"Digest\": \"sha256:", result.StandardOutput); // the anonymous skopeo inspect
        Assert.Contains("\"name\": \"cireader\"", result.StandardOutput); // the token
        // What the block pushed is there, and private again.
        using var anonymous = new HttpClient();
        using var refused = await anonymous.GetAsync(new Uri(server.BaseAddress, "v2/samples/hello/tags/list"));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        using var admin = server.CreateClient();
        Assert.Contains("\"1\"", await admin.GetStringAsync("v2/samples/hello/tags/list"));
    }

    /// <summary>The sh block right after the <c>&lt;!-- quick-start</c> marker.</summary>
    private static string QuickStartBlock(string readme)
    {
        var match = Regex.Match(readme, @"<!-- quick-start[^>]*-->\s*```sh\n(?<block>.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, "README.md has no quick-start block");
        return match.Groups["block"].Value;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Berth.slnx"))) return directory.FullName;
        throw new InvalidOperationException("Berth.slnx not found above " + AppContext.BaseDirectory);
    }
}
