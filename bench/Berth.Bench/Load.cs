using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Berth.Bench;

/// <summary>One fixed-concurrency load result: completed requests per second and latency percentiles (ms).</summary>
internal sealed record LoadResult(double Rps, double P50Ms, double P99Ms, long Requests, long Errors, string Tool)
{
    public static readonly LoadResult None = new(double.NaN, double.NaN, double.NaN, 0, 0, "n/a");

    /// <summary>A run where more than 1% of responses were not 2xx measures the wrong thing (401s, 429s): its numbers are not used.</summary>
    public bool Valid => Requests > 0 && Errors <= Requests / 100;
}

/// <summary>
/// Closed-loop HTTP load: <c>connections</c> keep-alive connections, each sending its next request as soon as the
/// last answer arrives, for a fixed duration. wrk (from Debian) when present — it costs the 2-core machine least —
/// else an in-process loop over SocketsHttpHandler. Both give the same numbers for every target in a run.
/// </summary>
internal sealed class LoadGenerator(string? wrkPath, string scratch)
{
    public string Tool => wrkPath is null ? "C# SocketsHttpHandler" : "wrk";

    public LoadResult Run(Uri url, IReadOnlyDictionary<string, string> headers, int connections, TimeSpan duration) =>
        wrkPath is null ? RunInProcess(url, headers, connections, duration).GetAwaiter().GetResult() : RunWrk(url, headers, connections, duration);

    private LoadResult RunWrk(Uri url, IReadOnlyDictionary<string, string> headers, int connections, TimeSpan duration)
    {
        var script = new StringBuilder("wrk.method = \"GET\"\n");
        foreach (var (name, value) in headers) script.Append($"wrk.headers[\"{name}\"] = \"{value.Replace("\"", "\\\"")}\"\n");
        var scriptPath = Path.Combine(scratch, $"wrk-{Guid.NewGuid():N}.lua");
        File.WriteAllText(scriptPath, script.ToString());
        try
        {
            var threads = Math.Max(1, Math.Min(Environment.ProcessorCount, connections));
            var (exit, stdout, stderr) = Shell.Run(wrkPath!, "-t", threads.ToString(CultureInfo.InvariantCulture), "-c", connections.ToString(CultureInfo.InvariantCulture),
                "-d", $"{Math.Max(1, (int)duration.TotalSeconds)}s", "--latency", "-s", scriptPath, url.ToString());
            if (exit != 0) throw new BenchException($"wrk failed ({exit}): {stderr}{stdout}");
            var rps = Number(stdout, @"Requests/sec:\s+([\d.]+)");
            var requests = (long)Number(stdout, @"(\d+) requests in");
            var errors = (long)Number(stdout, @"Non-2xx or 3xx responses:\s+(\d+)", 0);
            var socket = Regex.Match(stdout, @"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)");
            if (socket.Success) errors += Enumerable.Range(1, 4).Sum(i => long.Parse(socket.Groups[i].Value, CultureInfo.InvariantCulture));
            return new LoadResult(rps, Latency(stdout, "50%"), Latency(stdout, "99%"), requests, errors, "wrk");
        }
        finally
        {
            File.Delete(scriptPath);
        }
    }

    private static double Number(string text, string pattern, double fallback = double.NaN)
    {
        var match = Regex.Match(text, pattern);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : fallback;
    }

    private static double Latency(string text, string percentile)
    {
        var match = Regex.Match(text, @"^\s*" + Regex.Escape(percentile) + @"\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success) return double.NaN;
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    public static async Task<LoadResult> RunInProcess(Uri url, IReadOnlyDictionary<string, string> headers, int connections, TimeSpan duration)
    {
        using var client = Registry.NewClient(new Uri(url.GetLeftPart(UriPartial.Authority) + "/"));
        var deadline = Stopwatch.StartNew();
        long requests = 0, errors = 0;
        var samples = new List<double>[connections];
        var workers = Enumerable.Range(0, connections).Select(async worker =>
        {
            var local = samples[worker] = new List<double>(4096);
            var own = new byte[64 * 1024];
            while (deadline.Elapsed < duration)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                    await using var stream = await response.Content.ReadAsStreamAsync();
                    while (await stream.ReadAsync(own) > 0) { }
                    if ((int)response.StatusCode >= 400) Interlocked.Increment(ref errors);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
                local.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                Interlocked.Increment(ref requests);
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var all = samples.SelectMany(s => s).ToList();
        return new LoadResult(requests / deadline.Elapsed.TotalSeconds, Stats.Percentile(all, 50), Stats.Percentile(all, 99), requests, errors, "C#");
    }
}

/// <summary>Runs <paramref name="count"/> operations with <paramref name="parallelism"/> workers; stops early at the deadline. Returns completed count and seconds.</summary>
internal static class Parallel2
{
    public static async Task<(int Done, double Seconds)> RunAsync(int count, int parallelism, TimeSpan budget, Func<int, Task> operation)
    {
        var next = -1;
        var done = 0;
        var clock = Stopwatch.StartNew();
        Exception? failure = null;
        var workers = Enumerable.Range(0, parallelism).Select(async _ =>
        {
            while (failure is null && clock.Elapsed < budget)
            {
                var index = Interlocked.Increment(ref next);
                if (index >= count) return;
                try
                {
                    await operation(index);
                    Interlocked.Increment(ref done);
                }
                catch (Exception error)
                {
                    failure ??= error;
                }
            }
        }).ToArray();
        await Task.WhenAll(workers);
        if (failure is not null) throw failure;
        return (done, clock.Elapsed.TotalSeconds);
    }
}
