using System.Text.Json.Nodes;
using Berth.Cli.Tests.Infrastructure;

namespace Berth.Cli.Tests.Commands;

/// <summary><c>berth gc</c> and <c>berth fsck</c> against a server process, found through ./data with no flags.</summary>
public sealed class MaintenanceCommandTests(LiveServer server) : IClassFixture<LiveServer>
{
    [Fact]
    public async Task Gc_DryRunAndRun_PrintTheServersReport()
    {
        await server.PushImageAsync("gc/image", "v1");
        var cli = server.Cli("gc");

        var dry = await cli.RunAsync("gc", "--dry-run");
        Assert.True(dry.ExitCode == 0, $"{dry}\n{server.Output}");
        var report = JsonNode.Parse(dry.Out)!;
        Assert.True((bool)report["dryRun"]!);
        // Everything was just pushed: the grace period keeps it all.
        Assert.Equal(0, (int)report["blobsRemoved"]!);

        var run = await cli.RunAsync("gc", "-n", "myregistry", "--query", "blobLinksRemoved");
        Assert.True(run.ExitCode == 0, $"{run}\n{server.Output}");
        Assert.Equal("0", run.Out.Trim());

        var unknown = await cli.RunAsync("gc", "-n", "nosuchregistry1");
        Assert.NotEqual(0, unknown.ExitCode);
    }

    [Fact]
    public async Task Fsck_OnAHealthyStore_ExitsZero_AndOnACorruptBlob_ExitsOneAndNamesIt()
    {
        await server.PushImageAsync("fsck/image", "v1");
        var cli = server.Cli("fsck");
        var healthy = await cli.RunAsync("fsck");
        Assert.True(healthy.ExitCode == 0, $"{healthy}\n{server.Output}");
        Assert.True((bool)JsonNode.Parse(healthy.Out)!["healthy"]!);

        var blob = Directory.EnumerateFiles(Path.Combine(server.DataDirectory, "storage", "blobs"), "*", SearchOption.AllDirectories).First();
        await File.AppendAllTextAsync(blob, "corruption");
        var corrupt = await cli.RunAsync("fsck");
        Assert.Equal(1, corrupt.ExitCode);
        Assert.Contains("corrupt-blob", corrupt.Out);
        Assert.Contains(Path.GetFileName(blob), corrupt.Out);
        Assert.Contains("problem(s)", corrupt.Error);
        await File.WriteAllBytesAsync(blob, (await File.ReadAllBytesAsync(blob))[..^"corruption".Length]);
    }
}
