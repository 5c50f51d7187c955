using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Berth.Bench;

/// <summary>
/// Turns the runs into the results table: medians over runs; ratios and shares of the physical limit are taken within
/// each run and their median reported (issue 7: "medians of at least 3 runs, ratios taken within one run").
/// </summary>
internal sealed class Report(Config config, Bench bench, Dictionary<string, string> machine)
{
    private delegate double Metric(IReadOnlyDictionary<string, double> run);

    private sealed record Row(string Label, string Unit, Metric Berth, Metric? Distribution, bool HigherIsBetter,
        string? LimitLabel = null, Metric? Limit = null, string? BarText = null, Func<bool?>? Bar = null);

    private sealed record Evaluated(string Label, string Unit, double Berth, double Distribution, double Advantage,
        string? LimitLabel, double Limit, double Share, string? Bar, bool? Pass);

    private IEnumerable<IReadOnlyDictionary<string, double>> AllRuns =>
        bench.Runs.Select(run => (IReadOnlyDictionary<string, double>)run.Concat(bench.Once).ToDictionary(p => p.Key, p => p.Value));

    private double Median(Metric metric) => Stats.Median(AllRuns.Select(run => metric(run)));

    private static Metric K(string key) => run => run.TryGetValue(key, out var value) ? value : double.NaN;
    private static Metric Ratio(Metric a, Metric b) => run => a(run) / b(run);

    private static bool? AtLeast(double value, double bar) => double.IsNaN(value) ? null : value >= bar;
    private static bool? AtMost(double value, double bar) => double.IsNaN(value) ? null : value <= bar;
    private static bool? All(params bool?[] checks) => checks.Any(c => c == false) ? false : checks.Any(c => c is null) ? null : true;

    private List<Row> Rows()
    {
        var s = config.Sizes;
        var top = s.Connections.Max();
        Metric pushLimit = run => Math.Min(K("p.sha256")(run), K("p.disk")(run));
        var rows = new List<Row>
        {
            new($"Blob push {s.BlobMiB} MiB, monolithic (POST + PUT)", "MB/s", K("b.push.mono"), K("d.push.mono"), true,
                "min(SHA-256, fsync'd disk)", pushLimit,
                "≥ 2× distribution, ≥ 80% of limit",
                () => All(AtLeast(Median(Ratio(K("b.push.mono"), K("d.push.mono"))), 2), AtLeast(Median(Ratio(K("b.push.mono"), pushLimit)), 0.8))),
            new($"Blob push {s.BlobMiB} MiB, chunked ({s.ChunkMiB} MiB PATCHes)", "MB/s", K("b.push.chunked"), K("d.push.chunked"), true,
                "min(SHA-256, fsync'd disk)", pushLimit,
                "≥ 80% of Berth monolithic",
                () => AtLeast(Median(Ratio(K("b.push.chunked"), K("b.push.mono"))), 0.8)),
            new($"Blob pull {s.BlobMiB} MiB", "MB/s", K("b.pull"), K("d.pull"), true, "loopback TCP", K("p.loopback"),
                "≥ 2× distribution, ≥ 80% of limit",
                () => All(AtLeast(Median(Ratio(K("b.pull"), K("d.pull"))), 2), AtLeast(Median(Ratio(K("b.pull"), K("p.loopback"))), 0.8))),
            new($"Blob pull {s.BlobMiB} MiB, against nginx serving the same bytes", "MB/s", K("b.pull"), K("d.pull"), true,
                "nginx static file, same client", K("n.pull")),
            new("Blob HEAD latency p50 (sequential)", "ms", K("b.head.p50"), K("d.head.p50"), false),
            new("Blob HEAD latency p99 (sequential)", "ms", K("b.head.p99"), K("d.head.p99"), false),
        };
        foreach (var c in s.Connections)
        {
            var isTop = c == top;
            rows.Add(new($"Manifest GET, anonymous, {c} conns", "req/s", K($"b.anon.{c}.rps"), K($"d.get.{c}.rps"), true,
                "nginx static file", K($"n.{c}.rps"),
                isTop ? "≥ 5× distribution, ≥ 50% of nginx" : null,
                isTop ? () => All(AtLeast(Median(Ratio(K($"b.anon.{c}.rps"), K($"d.get.{c}.rps"))), 5), AtLeast(Median(Ratio(K($"b.anon.{c}.rps"), K($"n.{c}.rps"))), 0.5)) : null));
            rows.Add(new($"Manifest GET, anonymous, {c} conns, p50", "ms", K($"b.anon.{c}.p50"), K($"d.get.{c}.p50"), false, "nginx static file", K($"n.{c}.p50")));
            rows.Add(new($"Manifest GET, anonymous, {c} conns, p99", "ms", K($"b.anon.{c}.p99"), K($"d.get.{c}.p99"), false, "nginx static file", K($"n.{c}.p99"),
                isTop ? "≤ distribution's p99 / 5" : null,
                isTop ? () => AtLeast(Median(Ratio(K($"d.get.{c}.p99"), K($"b.anon.{c}.p99"))), 5) : null));
            rows.Add(new($"Manifest GET, bearer token, {c} conns", "req/s", K($"b.bearer.{c}.rps"), K($"d.get.{c}.rps"), true,
                "nginx static file", K($"n.{c}.rps"),
                "≥ 90% of anonymous rate",
                () => AtLeast(Median(Ratio(K($"b.bearer.{c}.rps"), K($"b.anon.{c}.rps"))), 0.9)));
            rows.Add(new($"Manifest GET, bearer token, {c} conns, p50", "ms", K($"b.bearer.{c}.p50"), K($"d.get.{c}.p50"), false, "nginx static file", K($"n.{c}.p50")));
            rows.Add(new($"Manifest GET, bearer token, {c} conns, p99", "ms", K($"b.bearer.{c}.p99"), K($"d.get.{c}.p99"), false, "nginx static file", K($"n.{c}.p99")));
        }
        rows.Add(new($"Token issuance, GET /oauth2/token with Basic, {s.TokenConnections} conns", "tokens/s", K("b.token.rps"), null, true,
            "ACR Premium: 20,000/min", _ => 20_000.0 / 60, "≥ 2,000 tokens/s", () => AtLeast(Median(K("b.token.rps")), 2000)));
        rows.Add(new($"Small blobs, {s.SmallBlobs:N0} × {s.SmallBlobKiB} KiB, {s.SmallParallelism}-way (POST + PUT)", "blobs/s", K("b.small"), K("d.small"), true,
            BarText: "≥ 3× distribution", Bar: () => AtLeast(Median(Ratio(K("b.small"), K("d.small"))), 3)));
        var tagCount = Median(K("tags.count"));
        var repoCount = Median(K("repos.count"));
        rows.Add(new($"Tags list, {tagCount:N0} tags, n={s.PageSize}: p50 per page", "ms", K("b.tags.p50"), K("d.tags.p50"), false));
        rows.Add(new($"Tags list, {tagCount:N0} tags: all pages", "ms", K("b.tags.total"), K("d.tags.total"), false));
        rows.Add(new($"Catalog, {repoCount:N0}+ repositories, n={s.PageSize}: p50 per page", "ms", K("b.catalog.p50"), K("d.catalog.p50"), false));
        rows.Add(new($"Catalog, {repoCount:N0}+ repositories: all pages", "ms", K("b.catalog.total"), K("d.catalog.total"), false));
        rows.Add(new($"Peak RSS under the {top}-connection manifest load", "MiB", K("b.rss.load"), K("d.rss.load"), false,
            BarText: "≤ 200 MiB", Bar: () => AtMost(Median(K("b.rss.load")), 200)));
        rows.Add(new("Peak RSS over the whole run (VmHWM)", "MiB", K("b.rss.runpeak"), K("d.rss.runpeak"), false));
        rows.Add(new($"RSS growth pushing a {s.BigBlobMiB:N0} MiB blob", "MiB", K("b.big.push.growth"), K("d.big.push.growth"), false,
            BarText: "≤ 64 MiB", Bar: () => AtMost(Median(K("b.big.push.growth")), 64)));
        rows.Add(new($"RSS growth pulling a {s.BigBlobMiB:N0} MiB blob", "MiB", K("b.big.pull.growth"), K("d.big.pull.growth"), false,
            BarText: "≤ 64 MiB", Bar: () => AtMost(Median(K("b.big.pull.growth")), 64)));
        rows.Add(new($"Push rate of the {s.BigBlobMiB:N0} MiB blob (one run)", "MB/s", K("b.big.push.rate"), K("d.big.push.rate"), true));
        rows.Add(new($"Pull rate of the {s.BigBlobMiB:N0} MiB blob (one run)", "MB/s", K("b.big.pull.rate"), K("d.big.pull.rate"), true));
        return rows;
    }

    private List<Evaluated> Evaluate() => Rows().Select(row =>
    {
        var berth = Median(row.Berth);
        var distribution = row.Distribution is null ? double.NaN : Median(row.Distribution);
        var advantage = row.Distribution is null ? double.NaN
            : Median(row.HigherIsBetter ? Ratio(row.Berth, row.Distribution) : Ratio(row.Distribution, row.Berth));
        var limit = row.Limit is null ? double.NaN : Median(row.Limit);
        var share = row.Limit is null ? double.NaN
            : Median(row.HigherIsBetter ? Ratio(row.Berth, row.Limit) : Ratio(row.Limit, row.Berth));
        return new Evaluated(row.Label, row.Unit, berth, distribution, advantage, row.LimitLabel, limit, share, row.BarText, row.Bar?.Invoke());
    }).ToList();

    public static Dictionary<string, string> DescribeMachine(string scratch)
    {
        string First(string file, string pattern)
        {
            try
            {
                var match = Regex.Match(File.ReadAllText(file), pattern, RegexOptions.Multiline);
                return match.Success ? match.Groups[1].Value.Trim() : "?";
            }
            catch (Exception)
            {
                return "?";
            }
        }
        var memKb = double.TryParse(First("/proc/meminfo", @"^MemTotal:\s+(\d+)"), CultureInfo.InvariantCulture, out var kb) ? kb : double.NaN;
        var (_, disk, _) = Shell.Run("df", "-h", "--output=source,fstype,size,avail", scratch);
        var device = disk.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "?";
        var block = Path.GetFileName(device);
        var rotational = File.Exists($"/sys/block/{block}/queue/rotational") ? File.ReadAllText($"/sys/block/{block}/queue/rotational").Trim() == "1" ? "rotational" : "non-rotational" : "?";
        return new Dictionary<string, string>
        {
            ["hostname"] = Environment.MachineName,
            ["nproc"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["cpu"] = First("/proc/cpuinfo", @"^model name\s*:\s*(.+)$"),
            ["memory"] = $"{memKb / 1024 / 1024:F1} GiB",
            ["kernel"] = First("/proc/sys/kernel/osrelease", @"^(.+)$"),
            ["os"] = First("/etc/os-release", "^PRETTY_NAME=\"?([^\"\\n]+)"),
            ["disk"] = $"{string.Join(" ", disk.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [])} ({rotational})",
            ["runtime"] = RuntimeInformation.FrameworkDescription,
            ["loadavg"] = File.ReadAllText("/proc/loadavg").Trim(),
            ["busyBefore"] = CpuBusyShare(TimeSpan.FromSeconds(3)).ToString("0.00", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>
    /// The share of all CPUs' time spent busy over a short window just before the runs (from /proc/stat). Unlike the
    /// load average, which still carries the build that bench/run.sh has just finished, it says whether anything else
    /// is running now.
    /// </summary>
    private static double CpuBusyShare(TimeSpan window)
    {
        static (long Busy, long Total) Sample()
        {
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
            var idle = fields[3] + fields[4]; // idle + iowait
            var total = fields.Take(8).Sum(); // user nice system idle iowait irq softirq steal (guest time is inside user)
            return (total - idle, total);
        }
        var before = Sample();
        Thread.Sleep(window);
        var after = Sample();
        return after.Total == before.Total ? 0 : (double)(after.Busy - before.Busy) / (after.Total - before.Total);
    }

    private static string Cell(double value, string unit)
    {
        if (double.IsNaN(value)) return "n/a";
        var decimals = unit == "ms" ? 2 : 1;
        return value.ToString(Math.Abs(value) >= 100 ? "N0" : "N" + decimals, CultureInfo.InvariantCulture);
    }

    private static string Times(double value) => double.IsNaN(value) || double.IsInfinity(value) ? "–" : value.ToString("0.00", CultureInfo.InvariantCulture) + "×";
    private static string Percent(double value) => double.IsNaN(value) || double.IsInfinity(value) ? "–" : (value * 100).ToString("0", CultureInfo.InvariantCulture) + "%";

    public string Markdown(string startedAt, string loadEnd)
    {
        var rows = Evaluate();
        var s = config.Sizes;
        var busyBefore = double.Parse(machine["busyBefore"], CultureInfo.InvariantCulture);
        var busy = busyBefore > 0.25;
        var text = new StringBuilder();
        text.AppendLine($"### Results {startedAt} on {machine["hostname"]}{(config.Quick ? " — QUICK smoke run (1 run, small sizes: not a valid evaluation of the bars)" : "")}");
        text.AppendLine();
        if (busy)
        {
            text.AppendLine($"> **Busy machine:** {Percent(busyBefore)} of the CPUs' time was busy in the 3 s before the runs, while the servers were idle: other processes competed with the servers and the load tool, so absolute numbers are low and noisy.");
            text.AppendLine();
        }
        text.AppendLine($"Machine: {machine["nproc"]} × {machine["cpu"]}, {machine["memory"]} RAM, kernel {machine["kernel"]}, {machine["os"]}; disk {machine["disk"]}; {machine["runtime"]}.  ");
        text.AppendLine($"CPU busy in the 3 s before the runs (servers idle): {Percent(busyBefore)}. Load average (`/proc/loadavg`, which still includes the build that precedes the runs): start `{machine["loadavg"]}`, end `{loadEnd}`.  ");
        text.AppendLine($"Runs: {config.Runs} (medians; ratios and shares are taken within each run, then the median). Load tool: {(config.Wrk is null ? "C# SocketsHttpHandler" : "wrk")} for the fixed-concurrency rows ({s.LoadSeconds} s each), the C# tool (one pooled HttpClient) for everything else.  ");
        if (config.Versions.Count > 0) text.AppendLine("Versions: " + string.Join("; ", config.Versions.Select(p => $"{p.Key} {p.Value}")) + ".");
        text.AppendLine();
        text.AppendLine("| Measurement | unit | Berth | distribution | Berth advantage | physical limit | Berth share of limit | bar (issue 7) | |");
        text.AppendLine("|---|---|---:|---:|---:|---|---:|---|:-:|");
        foreach (var row in rows)
        {
            var limit = row.LimitLabel is null ? "–" : $"{row.LimitLabel}: {Cell(row.Limit, row.Unit)}";
            var mark = row.Pass switch { true => "✔", false => "✘", null => row.Bar is null ? "" : "?" };
            text.AppendLine($"| {row.Label} | {row.Unit} | {Cell(row.Berth, row.Unit)} | {Cell(row.Distribution, row.Unit)} | {Times(row.Advantage)} | {limit} | {Percent(row.Share)} | {row.Bar ?? ""} | {mark} |");
        }
        text.AppendLine();
        text.AppendLine("Physical limits (medians): " + string.Join(", ", new[]
        {
            $"single-core SHA-256 {Cell(Median(K("p.sha256")), "MB/s")} MB/s",
            $"disk write with O_DIRECT + fsync {Cell(Median(K("p.disk")), "MB/s")} MB/s",
            $"page-cache read {Cell(Median(K("p.pagecache")), "MB/s")} MB/s",
            $"loopback TCP, one stream: {Cell(Median(K("p.loopback.write")), "MB/s")} MB/s with write(), {Cell(Median(K("p.loopback.sendfile")), "MB/s")} MB/s with sendfile() (the limit is the better of the two)",
            $"nginx serving the {s.BlobMiB} MiB blob as a static file to the benchmark's client: {Cell(Median(K("n.pull.sendfile")), "MB/s")} MB/s with sendfile, {Cell(Median(K("n.pull.copy")), "MB/s")} MB/s without",
        }.Concat(s.Connections.Select(c => $"nginx static file {c} conns {Cell(Median(K($"n.{c}.rps")), "req/s")} req/s (p50 {Cell(Median(K($"n.{c}.p50")), "ms")} ms, p99 {Cell(Median(K($"n.{c}.p99")), "ms")} ms)"))) + ".");
        text.AppendLine();
        text.AppendLine("\"Berth advantage\" is Berth ÷ distribution for rates and distribution ÷ Berth for latencies and memory: above 1× Berth is better. " +
                        "\"Berth share of limit\" is Berth ÷ limit for rates, limit ÷ Berth for latencies. ✔/✘: the bar holds / does not; ? : not measurable in this run.");
        if (config.ScaleOut is { } scaleOut) AppendScaleOut(text, scaleOut);
        var notes = config.Notes.Concat(bench.Notes).Distinct().ToList();
        if (notes.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Notes:");
            foreach (var note in notes) text.AppendLine($"- {note}");
        }
        return text.ToString();
    }

    /// <summary>Push and pull through the load balancer in front of several nodes, against the single embedded node.</summary>
    private void AppendScaleOut(StringBuilder text, ScaleOutEndpoint scaleOut)
    {
        var s = config.Sizes;
        text.AppendLine();
        text.AppendLine($"Scale-out ({scaleOut.Description}), same client, same run:");
        text.AppendLine();
        text.AppendLine("| Measurement | unit | scale-out | single node (embedded default) | scale-out ÷ single node | storage service alone | scale-out ÷ storage |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var (label, key, storageKey) in new[]
        {
            ($"Blob push {s.BlobMiB} MiB, monolithic (POST + PUT)", "push.mono", "a.push"),
            ($"Blob push {s.BlobMiB} MiB, chunked ({s.ChunkMiB} MiB PATCHes)", "push.chunked", "a.push"),
            ($"Blob pull {s.BlobMiB} MiB", "pull", "a.pull"),
        })
        {
            var ratio = Median(Ratio(K($"s.{key}"), K($"b.{key}")));
            var share = Median(Ratio(K($"s.{key}"), K(storageKey)));
            text.AppendLine($"| {label} | MB/s | {Cell(Median(K($"s.{key}")), "MB/s")} | {Cell(Median(K($"b.{key}")), "MB/s")} | {Times(ratio)} | " +
                            $"{Cell(Median(K(storageKey)), "MB/s")} | {Percent(share)} |");
        }
        text.AppendLine();
        text.AppendLine("\"Storage service alone\" is the Azure SDK writing the same blob straight into Azurite the way Berth's provider does " +
                        "(4 MiB blocks, 4 in flight, one commit) and reading it back as one download: no node can move bytes faster.");
    }

    public string Json(string startedAt, string loadEnd) => JsonSerializer.Serialize(new
    {
        startedAt,
        quick = config.Quick,
        runs = config.Runs,
        machine,
        loadAverageEnd = loadEnd,
        versions = config.Versions,
        sizes = config.Sizes,
        notes = config.Notes.Concat(bench.Notes).Distinct().ToList(),
        rows = Evaluate(),
        once = bench.Once,
        perRun = bench.Runs,
    }, Config.Options);
}
