using System.Diagnostics;
using System.Net;

namespace Berth.Reliability.Tests.Availability;

/// <summary>
/// <c>berth serve</c> started while a service it cannot start without (PostgreSQL, Redis) is down: it waits for it
/// (one warning line per attempt) and serves once it is there; when it does not come within Berth:StartupWait, it
/// exits with status 1 and one line, never a crash or a stack trace.
/// </summary>
public sealed class StartupWaitTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "berth-startup-" + Guid.NewGuid().ToString("N")[..12]);

    public StartupWaitTests() => Directory.CreateDirectory(_data);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // A killed server may still be closing files; the temp folder is cleaned by the OS.
        }
    }

    [Fact]
    public async Task RedisNeverComes_ServeExitsWithOneLineAndStatus1()
    {
        var started = Stopwatch.StartNew();
        using var node = StartNode(_data, "--Berth:StartupWait=00:00:08", $"--Berth:Redis:Configuration=127.0.0.1:{LoopbackPort.Free()}");

        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exit);
        // It waited: how many "Waiting for" lines that gives depends on how long each attempt takes on a busy machine
        // (one may take the whole wait); that it says so while waiting is RedisAndPostgreSqlStartedWhileTheNodeWaits'.
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(8), $"gave up after {started.Elapsed}:\n{node.Output}");
        // How the client names the failure (no physical connection, a connect in progress that failed, a timeout)
        // depends on where its reconnect loop stands when the wait runs out; the line is the same either way.
        var last = node.Output.TrimEnd().Split('\n')[^1];
        Assert.Matches(@"^berth: cannot start: Redis is unavailable: (no connection to the server \(\w+\)|no answer within the timeout)$", last);
        Assert.DoesNotContain("   at ", node.Output);
        Assert.DoesNotContain("Unhandled exception", node.Output);
    }

    [Fact]
    public async Task PostgreSqlNeverComes_ServeExitsWithOneLineAndStatus1()
    {
        var port = LoopbackPort.Free();
        var started = Stopwatch.StartNew();
        using var node = StartNode(_data, "--Berth:StartupWait=00:00:08", "--Berth:Database:Type=PostgreSql",
            $"--Berth:Database:ConnectionString=Host=127.0.0.1;Port={port};Database=berth;Username=postgres");

        var exit = await node.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exit);
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(8), $"gave up after {started.Elapsed}:\n{node.Output}");
        Assert.Contains("keeps metadata in PostgreSQL, which other nodes can share, but Berth:Redis:Configuration is not set", node.Output);
        var last = node.Output.TrimEnd().Split('\n')[^1];
        Assert.StartsWith($"berth: cannot start: PostgreSQL is unavailable: cannot open the metadata database (host 127.0.0.1, port {port}, database berth)", last);
        Assert.DoesNotContain("   at ", node.Output);
    }

    [Fact]
    public async Task RedisAndPostgreSqlStartedWhileTheNodeWaits_NodeServes()
    {
        await using var redis = await RedisServer.StartNewAsync();
        await using var postgres = await PostgreSqlServer.StartDedicatedAsync();
        var connectionString = await postgres.CreateDatabaseAsync();
        await redis.StopAsync();
        await postgres.StopAsync();
        using var node = StartNode(_data, "--Berth:StartupWait=00:02:00", $"--Berth:Redis:Configuration={redis.Configuration}",
            "--Berth:Database:Type=PostgreSql", $"--Berth:Database:ConnectionString={connectionString}");

        await node.WaitForOutputAsync("Waiting for PostgreSQL", TimeSpan.FromSeconds(60));
        await postgres.StartAsync();
        await node.WaitForOutputAsync("Waiting for Redis", TimeSpan.FromSeconds(60));
        await redis.StartAsync();

        using var client = new HttpClient { BaseAddress = node.BaseAddress };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(node.HasExited, $"the node exited while waiting:\n{node.Output}");
            try
            {
                using var ready = await client.GetAsync("/readyz");
                if (ready.StatusCode == HttpStatusCode.OK) break;
            }
            catch (HttpRequestException)
            {
                // Not listening yet: it listens only once its services answer.
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"not ready 60 s after both services came back:\n{node.Output}");
            await Task.Delay(200);
        }
        using var v2 = await client.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, v2.StatusCode);
        Assert.True(File.Exists(Path.Combine(_data, "admin-credentials.json")), "the default registry was not created");
        Assert.DoesNotContain("Berth:Redis:Configuration is not set", node.Output); // shared database, and Redis too
    }

    /// <summary>A <c>berth serve</c> process on a free loopback port with the given extra settings, not waited for.</summary>
    private static BerthProcess StartNode(string data, params string[] settings)
    {
        var node = new BerthProcess(data) { Arguments = settings };
        node.Launch();
        return node;
    }
}
