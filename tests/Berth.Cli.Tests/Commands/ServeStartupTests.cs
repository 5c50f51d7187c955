using System.Net;
using System.Net.Sockets;
using Berth.Cli.Tests.Infrastructure;
using Berth.Testing;

namespace Berth.Cli.Tests.Commands;

/// <summary>How <c>berth serve</c> fails to start: one line naming the problem and the fix, a non-zero exit, no stack trace.</summary>
public sealed class ServeStartupTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task PortAlreadyInUse_OneLineWithTheAddressAndTheFix_ExitOne()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        using var server = new BerthProcess(Path.Combine(_folder.Path, "data"), port) { WorkingDirectory = _folder.Path };
        server.Launch();

        Assert.Equal(1, await server.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var lines = server.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains($"berth: cannot start: http://127.0.0.1:{port} is already in use by another process: stop that process, " +
            "or serve on another port with --urls (for example --urls http://127.0.0.1:5001).", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("at ", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("already in use", StringComparison.Ordinal));
    }
}
