using System.Globalization;
using Berth.Bench;

// berth-bench <config.json>: runs every measurement against the servers bench/run.sh started, writes
// <resultsDir>/<timestamp>-<host>.md and .json, and (with docsPath) refreshes the table in docs/performance.md.
if (args.Length != 1 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: berth-bench <config.json>   (normally started by bench/run.sh)");
    return 2;
}
var config = Config.Load(args[0]);
var started = DateTime.Now;
var stamp = started.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
var machine = Report.DescribeMachine(config.Scratch);
var bench = new Bench(config);
try
{
    await bench.RunAsync();
}
catch (Exception error) when (error is BenchException or HttpRequestException)
{
    Console.Error.WriteLine($"berth-bench: {error.Message}");
    return 1;
}
var loadEnd = File.ReadAllText("/proc/loadavg").Trim();
var report = new Report(config, bench, machine);
var startedText = started.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
var markdown = report.Markdown(startedText, loadEnd);
Directory.CreateDirectory(config.ResultsDir);
var baseName = Path.Combine(config.ResultsDir, $"{stamp}-{machine["hostname"]}");
await File.WriteAllTextAsync(baseName + ".md", markdown);
await File.WriteAllTextAsync(baseName + ".json", report.Json(startedText, loadEnd));
Console.WriteLine(markdown);
Console.Error.WriteLine($"[bench] results: {baseName}.md and .json");
if (config.DocsPath is { } docs && File.Exists(docs))
{
    const string start = "<!-- results:start -->", end = "<!-- results:end -->";
    var text = await File.ReadAllTextAsync(docs);
    var from = text.IndexOf(start, StringComparison.Ordinal);
    var to = text.IndexOf(end, StringComparison.Ordinal);
    if (from >= 0 && to > from)
    {
        var relative = Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(docs))!, baseName + ".md");
        text = text[..(from + start.Length)] + "\n" + markdown + $"\n(Source: [{Path.GetFileName(baseName)}.md]({relative}).)\n" + text[to..];
        await File.WriteAllTextAsync(docs, text);
        Console.Error.WriteLine($"[bench] updated {docs}");
    }
}
return 0;
