using System.Security.Cryptography;
using System.Text.Json;
using Berth.EndToEnd.Tests.Infrastructure;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// The self-contained single-file <c>berth</c> executable (scripts/publish.sh) as a user runs it: one file, no
/// <c>dotnet</c>, serving skopeo's push and pull, driven by its own <c>acr</c>, <c>gc</c> and <c>fsck</c> commands, and
/// stopping cleanly on SIGTERM.
/// </summary>
public sealed class PublishedBinaryTests(PublishedBinaryServer server) : IClassFixture<PublishedBinaryServer>, IDisposable
{
    private readonly ContainerTools _tools = new(server);
    private readonly TempDirectory _work = new("published");

    [Fact]
    public async Task Publish_MakesOneSelfContainedExecutable_WithServeAcrGcAndFsck()
    {
        var executable = await PublishedBinary.EnsureAsync();
        // One file: no berth.dll, runtime, .pdb or native library beside it.
        Assert.Equal(["berth"], Directory.GetFileSystemEntries(PublishedBinary.OutputDirectory).Select(Path.GetFileName).ToArray());
        var header = new byte[4];
        await using (var file = File.OpenRead(executable)) await file.ReadExactlyAsync(header);
        Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }, header);
        Assert.True(File.GetUnixFileMode(executable).HasFlag(UnixFileMode.UserExecute));

        // No .NET on the path: the executable carries its runtime.
        var help = await ExternalTool.RunAsync(executable, ["--help"], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["DOTNET_ROOT"] = "/nonexistent" });
        Assert.True(help.ExitCode == 0, help.Describe());
        foreach (var command in new[] { "serve", "acr", "gc", "fsck" })
            Assert.Matches($@"(?m)^\s*(berth )?{command}\b", help.StandardOutput);
    }

    [Fact]
    public async Task PublishedServer_TakesASkopeoPushAndPull_AnswersItsOwnCommands_AndStopsOnSigterm()
    {
        // The server process is the executable itself, not dotnet running a dll.
        Assert.Equal(PublishedBinary.ExecutablePath, new FileInfo($"/proc/{server.ProcessId}/exe").LinkTarget);

        var input = _work.Combine("input");
        var output = _work.Combine("output");
        var payload = _work.Combine("payload.bin");
        await File.WriteAllBytesAsync(payload, RandomNumberGenerator.GetBytes(1024 * 1024 + 5));
        var pushedDigest = await UmociImage.CreateAsync(input, "v1", payload);

        var destination = _tools.RegistryReference("published/app", "v1");
        (await _tools.SkopeoCopyAsync($"oci:{input}:v1", destination)).EnsureSuccess();
        (await _tools.SkopeoCopyAsync(destination, $"oci:{output}:v1")).EnsureSuccess();
        Assert.Equal(pushedDigest, OciLayout.FindReference(output, "v1")["digest"]!.GetValue<string>());
        OciLayout.AssertSameBlobs(input, output);

        // The same file is the CLI: it finds its server through the data folder.
        var cli = new Dictionary<string, string> { ["BERTH_DATA"] = server.DataDirectory };
        var repositories = await ExternalTool.RunAsync(PublishedBinary.ExecutablePath, ["acr", "repository", "list", "-n", "myregistry"], cli);
        Assert.True(repositories.ExitCode == 0, repositories.Describe());
        Assert.Contains("published/app", JsonSerializer.Deserialize<string[]>(repositories.StandardOutput)!);
        var gc = await ExternalTool.RunAsync(PublishedBinary.ExecutablePath, ["gc", "--dry-run"], cli);
        Assert.True(gc.ExitCode == 0, gc.Describe());
        Assert.True(JsonDocument.Parse(gc.StandardOutput).RootElement.GetProperty("dryRun").GetBoolean());
        var fsck = await ExternalTool.RunAsync(PublishedBinary.ExecutablePath, ["fsck"], cli);
        Assert.True(fsck.ExitCode == 0, fsck.Describe());
        Assert.Empty(JsonDocument.Parse(fsck.StandardOutput).RootElement.GetProperty("problems").EnumerateArray());

        Assert.Equal(0, await server.StopAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("Application is shutting down", server.Output);
    }

    public void Dispose()
    {
        _tools.Dispose();
        _work.Dispose();
    }
}
