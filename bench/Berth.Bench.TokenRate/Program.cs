// Token issuance rate: GET /oauth2/token with Basic admin credentials and one scope, from N concurrent clients
// for a fixed time, against a Berth server started in this process on loopback (throttling off, Release build).
//
//   dotnet run -c Release --project bench/Berth.Bench.TokenRate -- [seconds=10] [concurrency=16,64] [--same-process-note]
//
// Every loop is bounded in time (the duration) and in count (MaxRequestsPerWorker); all traffic is on 127.0.0.1.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Berth.Server.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

const int MaxRequestsPerWorker = 2_000_000;
var seconds = args.Length > 0 && int.TryParse(args[0], out var s) ? Math.Clamp(s, 1, 120) : 10;
var levels = args.Length > 1 ? args[1].Split(',').Select(int.Parse).Select(c => Math.Clamp(c, 1, 512)).ToArray() : [16, 64];

var data = Path.Combine(Path.GetTempPath(), "berth-tokenrate-" + Guid.NewGuid().ToString("N")[..10]);
Directory.CreateDirectory(data);
var app = BerthApp.Build(["--urls", "http://127.0.0.1:0", "--Berth:DataPath=" + data, "--Berth:Throttling:Enabled=false",
    "--Logging:LogLevel:Default=Warning"]);
await app.StartAsync();
try
{
    var baseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    using var credentials = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(data, "admin-credentials.json")));
    var root = credentials.RootElement;
    var loginServer = root.GetProperty("loginServer").GetString()!;
    var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
        $"{root.GetProperty("username").GetString()}:{root.GetProperty("password").GetString()}")));
    var path = $"/oauth2/token?service={Uri.EscapeDataString(loginServer)}&scope={Uri.EscapeDataString("repository:bench/app:pull,push")}";

    var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
    Console.WriteLine($"machine: {Environment.ProcessorCount} logical CPUs, {cpu}; .NET {Environment.Version}; client and server in one process on loopback");
    Console.WriteLine($"request: GET {path} with Basic admin credentials; {seconds} s per level after a 2 s warm-up");

    using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1024, UseProxy = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
    using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    async Task<(long Ok, long Failed, double Seconds, List<double> Latencies)> RunAsync(int concurrency, TimeSpan duration)
    {
        long ok = 0, failed = 0;
        var latencies = new List<double>[concurrency];
        var stop = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var mine = latencies[worker] = new List<double>();
            for (var i = 0; i < MaxRequestsPerWorker && stop.Elapsed < duration; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.Authorization = basic;
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode == HttpStatusCode.OK && body.Length > 100) Interlocked.Increment(ref ok);
                else Interlocked.Increment(ref failed);
                mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        return (ok, failed, stop.Elapsed.TotalSeconds, latencies.SelectMany(l => l).Order().ToList());
    }

    await RunAsync(8, TimeSpan.FromSeconds(2));
    foreach (var concurrency in levels)
    {
        var (ok, failed, elapsed, sorted) = await RunAsync(concurrency, TimeSpan.FromSeconds(seconds));
        double P(double q) => sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
        Console.WriteLine($"concurrency {concurrency,3}: {ok / elapsed,8:F0} tokens/s  ({ok} tokens, {failed} failed, {elapsed:F1} s; latency p50 {P(0.5):F2} ms, p99 {P(0.99):F2} ms)");
    }
}
finally
{
    await app.StopAsync();
    await app.DisposeAsync();
    try { Directory.Delete(data, recursive: true); } catch (IOException) { }
}
