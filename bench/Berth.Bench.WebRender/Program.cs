// Server render time of the web page: the registry page (200 repositories), the repository page of a repository with
// 100,000 tags (first page, a deep page, a search) and a manifest page, against a Berth server started in this process
// on loopback (SQLite, throttling off, Release build, anonymous pull on so the pages show everything).
//
//   dotnet run -c Release --project bench/Berth.Bench.WebRender -- [iterations=300] [results-folder]
//   bench/web-render.sh     (builds, runs, and writes bench/results/<timestamp>-<host>-web.md and .json)
//
// "Server" is the time from the request reaching the endpoint pipeline to the last byte written (a middleware around the
// endpoints measures it: access check, store reads, rendering); "client" adds Kestrel and the loopback round trip, as
// measured by one sequential HttpClient. Every loop is bounded in count; all traffic is on 127.0.0.1.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Core.Registries;
using Berth.Core.Storage;
using Berth.Server;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

const int TagCount = 100_000;
const int RepositoryCount = 200;
const int WarmUp = 30;
const string Repository = "bench/web";
var iterations = args.Length > 0 && int.TryParse(args[0], out var n) ? Math.Clamp(n, 10, 5000) : 300;
var resultsFolder = args.Length > 1 ? args[1] : null;

var machine = DescribeMachine();
var data = Path.Combine(Path.GetTempPath(), "berth-webrender-" + Guid.NewGuid().ToString("N")[..10]);
Directory.CreateDirectory(data);
var app = BerthApp.Build(["--urls", "http://127.0.0.1:0", "--Berth:DataPath=" + data, "--Berth:Throttling:Enabled=false",
    "--Logging:LogLevel:Default=Warning"]);
// Between routing and the endpoint: times the page's own work (access, reads, render, write).
var serverTimes = new ConcurrentQueue<double>();
app.Use(async (context, next) =>
{
    var started = Stopwatch.GetTimestamp();
    await next(context);
    if (context.Request.Headers.Accept.ToString().Contains("text/html")) serverTimes.Enqueue(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
});
await app.StartAsync();
try
{
    var baseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    using var credentials = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(data, "admin-credentials.json")));
    var root = credentials.RootElement;
    var registryName = root.GetProperty("registry").GetString()!;
    using var admin = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
        $"{root.GetProperty("username").GetString()}:{root.GetProperty("password").GetString()}")));

    Console.Error.WriteLine($"seeding {RepositoryCount} repositories and {TagCount:N0} tags in {Repository} ...");
    var seeding = Stopwatch.StartNew();
    var image = new TestImage();
    for (var i = 0; i < RepositoryCount - 1; i++) await admin.PushImageAsync($"bench/repo-{i:D3}", image, "1");
    await admin.PushImageAsync(Repository, image, "seed");
    await TagSeeding.SeedAsync(app.Services, new RepositoryKey(registryName, Repository), image, TagCount);
    await app.Services.GetRequiredService<RegistryService>().UpdateAsync(registryName, new RegistryPatch(AnonymousPullEnabled: true), "bench", CancellationToken.None);
    Console.Error.WriteLine($"seeded in {seeding.Elapsed.TotalSeconds:F0} s");

    var newest = image.VariantManifest("variant-" + (TagCount - 1) % 8);
    // The cursors of the depth of page 1,000 (49,950 tags before it), as the pager writes them: the 49,950th tag, and
    // the 50,001st for the previous link's direction, which lands on the same page.
    var walk = await app.Services.GetRequiredService<IRepositoryDetailsStore>().SearchTagsAsync(
        new RepositoryKey(registryName, Repository), "", null, false, 999 * 50 + 51, CancellationToken.None);
    string Cursor(TagDetails tag) => $"{tag.LastUpdateTime.ToUnixTimeMilliseconds()}.{tag.Name}";
    var pages = new (string Label, string Path)[]
    {
        ($"Registry page ({RepositoryCount} repositories, first 50)", "/"),
        ($"Repository page, {TagCount:N0} tags: first page", $"/r/{Repository}"),
        ($"Repository page, {TagCount:N0} tags: depth of page 1,000 (next link's cursor)", $"/r/{Repository}?after={Cursor(walk[999 * 50 - 1])}"),
        ($"Repository page, {TagCount:N0} tags: depth of page 1,000 (previous link's cursor)", $"/r/{Repository}?before={Cursor(walk[999 * 50 + 50])}"),
        ($"Repository page, {TagCount:N0} tags: search \"t-0999\"", $"/r/{Repository}?q=t-0999"),
        ("Manifest page (image, with referrer lookup)", $"/r/{Repository}/-/manifests/{TestImage.DigestOf(newest)}"),
    };

    using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
    var rows = new List<(string Label, string Path, double ServerP50, double ServerP95, double ClientP50, double ClientP95, int Bytes)>();
    var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
    foreach (var (label, path) in pages)
    {
        var bytes = 0;
        for (var i = 0; i < WarmUp; i++)
        {
            using var response = await client.GetAsync(path);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}");
            bytes = (await response.Content.ReadAsByteArrayAsync()).Length;
        }
        serverTimes.Clear();
        var clientTimes = new List<double>(iterations);
        for (var i = 0; i < iterations; i++)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(path);
            await response.Content.ReadAsByteArrayAsync();
            clientTimes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        var server = serverTimes.ToList();
        rows.Add((label, path, Percentile(server, 0.50), Percentile(server, 0.95), Percentile(clientTimes, 0.50), Percentile(clientTimes, 0.95), bytes));
        Console.Error.WriteLine($"{label}: server p50 {Percentile(server, 0.50):F2} ms, p95 {Percentile(server, 0.95):F2} ms");
    }
    var loadAfter = File.ReadAllText("/proc/loadavg").Trim();

    var stamp = DateTime.UtcNow;
    var text = new StringBuilder();
    text.AppendLine($"### Web page render times {stamp:yyyy-MM-dd HH:mm} UTC on {machine["hostname"]}").AppendLine();
    text.AppendLine($"Machine: {machine["nproc"]} × {machine["cpu"]}, {machine["memory"]} RAM, kernel {machine["kernel"]}, {machine["os"]}; {machine["runtime"]}.  ");
    text.AppendLine($"Load average (`/proc/loadavg`, a machine shared with other work): start `{loadBefore}`, end `{loadAfter}`.  ");
    text.AppendLine($"Set-up: one Berth process (Release, SQLite, throttling off, anonymous pull on), client in the same process on loopback; " +
        $"{iterations} sequential requests per page after {WarmUp} warm-up requests. Server = endpoint pipeline (access check, store reads, render, write); " +
        "client = the whole HTTP round trip. Goal: server render under 50 ms at the median.").AppendLine();
    text.AppendLine("| Page | path | server p50 ms | server p95 ms | client p50 ms | client p95 ms | HTML bytes | goal (< 50 ms p50) |");
    text.AppendLine("|---|---|---:|---:|---:|---:|---:|:-:|");
    foreach (var row in rows)
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| {row.Label} | `{row.Path}` | {row.ServerP50:F2} | {row.ServerP95:F2} | {row.ClientP50:F2} | {row.ClientP95:F2} | {row.Bytes:N0} | {(row.ServerP50 < 50 ? "✔" : "✘")} |"));
    Console.WriteLine(text);
    if (resultsFolder is not null)
    {
        Directory.CreateDirectory(resultsFolder);
        var name = Path.Combine(resultsFolder, $"{stamp:yyyyMMdd-HHmmss}-{machine["hostname"]}-web");
        await File.WriteAllTextAsync(name + ".md", text.ToString());
        await File.WriteAllTextAsync(name + ".json", JsonSerializer.Serialize(new
        {
            measuredAt = stamp,
            machine,
            loadBefore,
            loadAfter,
            iterations,
            warmUp = WarmUp,
            pages = rows.Select(r => new { label = r.Label, path = r.Path, serverP50Ms = r.ServerP50, serverP95Ms = r.ServerP95, clientP50Ms = r.ClientP50, clientP95Ms = r.ClientP95, htmlBytes = r.Bytes }),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.Error.WriteLine($"results: {name}.md and .json");
    }
}
finally
{
    await app.StopAsync();
    await app.DisposeAsync();
    Directory.Delete(data, recursive: true);
}

static double Percentile(List<double> values, double share)
{
    if (values.Count == 0) return double.NaN;
    var sorted = values.Order().ToList();
    return sorted[(int)Math.Clamp(Math.Ceiling(share * sorted.Count) - 1, 0, sorted.Count - 1)];
}

static Dictionary<string, string> DescribeMachine()
{
    static string First(string file, string pattern)
    {
        try
        {
            var match = Regex.Match(File.ReadAllText(file), pattern, RegexOptions.Multiline);
            return match.Success ? match.Groups[1].Value.Trim() : "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }
    var memoryKb = double.TryParse(First("/proc/meminfo", @"^MemTotal:\s+(\d+)"), CultureInfo.InvariantCulture, out var kb) ? kb : double.NaN;
    return new Dictionary<string, string>
    {
        ["hostname"] = Environment.MachineName,
        ["nproc"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
        ["cpu"] = First("/proc/cpuinfo", @"^model name\s*:\s*(.+)$"),
        ["memory"] = string.Create(CultureInfo.InvariantCulture, $"{memoryKb / 1024 / 1024:F1} GiB"),
        ["kernel"] = First("/proc/sys/kernel/osrelease", @"^(.+)$"),
        ["os"] = First("/etc/os-release", "^PRETTY_NAME=\"?([^\"\\n]+)"),
        ["runtime"] = RuntimeInformation.FrameworkDescription,
    };
}
