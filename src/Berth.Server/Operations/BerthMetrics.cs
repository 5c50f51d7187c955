using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Berth.Core.Maintenance;

namespace Berth.Server.Operations;

/// <summary>
/// Berth's counters (System.Diagnostics.Metrics, so any OpenTelemetry exporter can also read them) and a small
/// exporter of Prometheus' text format for <c>/metrics</c>. The meter comes from the host's <see cref="IMeterFactory"/>,
/// so two servers in one process (tests) never count each other's requests.
/// </summary>
/// <summary>A counter kept outside <see cref="BerthMetrics"/>, rendered at scrape time: its values by label set (<c>{k="v"}</c>, or empty).</summary>
public sealed record CounterFamily(string Name, string Help, IReadOnlyList<(string Labels, long Value)> Values);

public sealed class BerthMetrics : IDisposable
{
    public const string MeterName = "Berth";

    private readonly Meter _meter;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Name, string Labels), long> _values = new();
    private readonly Dictionary<string, string> _help = [];

    private readonly Counter<long> _requests;
    private readonly Counter<long> _requestBytes;
    private readonly Counter<long> _responseBytes;
    private readonly Counter<long> _throttled;
    private readonly Counter<long> _tokensIssued;
    private readonly Counter<long> _uploadsStarted;
    private readonly Counter<long> _gcRuns;
    private readonly Counter<long> _gcItems;
    private readonly Counter<long> _gcBytes;

    public BerthMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(MeterName);
        _requests = Counter("berth_http_requests", "HTTP requests by endpoint group and status code.");
        _requestBytes = Counter("berth_http_request_bytes", "Request body bytes received, by endpoint group.");
        _responseBytes = Counter("berth_http_response_bytes", "Response body bytes sent (as declared by Content-Length), by endpoint group.");
        _throttled = Counter("berth_throttled_requests", "Requests refused with 429 TOOMANYREQUESTS, by endpoint group.");
        _tokensIssued = Counter("berth_tokens_issued", "Registry tokens issued by the token service (/oauth2/token and /oauth2/exchange).");
        _uploadsStarted = Counter("berth_upload_sessions_started", "Blob upload sessions started.");
        _gcRuns = Counter("berth_gc_runs", "Garbage collection runs, by mode (dry_run true or false).");
        _gcItems = Counter("berth_gc_removed_items", "Items garbage collection removed, by kind (manifest, blob_link, blob, upload).");
        _gcBytes = Counter("berth_gc_removed_bytes", "Bytes garbage collection freed, by kind (blob, upload).");

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _meter)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            _values.AddOrUpdate((instrument.Name, Labels(tags)), value, (_, old) => old + value));
        _listener.Start();
    }

    private Counter<long> Counter(string name, string help)
    {
        _help[name] = help;
        return _meter.CreateCounter<long>(name, description: help);
    }

    public void RequestCompleted(string group, int status, long requestBytes, long responseBytes)
    {
        var groupTag = new KeyValuePair<string, object?>("group", group);
        _requests.Add(1, groupTag, new KeyValuePair<string, object?>("status", status.ToString(CultureInfo.InvariantCulture)));
        if (requestBytes > 0) _requestBytes.Add(requestBytes, groupTag);
        if (responseBytes > 0) _responseBytes.Add(responseBytes, groupTag);
        if (status == StatusCodes.Status429TooManyRequests) _throttled.Add(1, groupTag);
    }

    public void TokenIssued() => _tokensIssued.Add(1);

    public void UploadStarted() => _uploadsStarted.Add(1);

    public void GarbageCollected(GarbageCollectionReport report)
    {
        if (report.Skipped is not null) return; // another node ran it and counts it
        _gcRuns.Add(1, new KeyValuePair<string, object?>("dry_run", report.DryRun ? "true" : "false"));
        if (report.DryRun) return;
        foreach (var (kind, count) in new[] { ("manifest", report.ManifestsRemoved), ("blob_link", report.BlobLinksRemoved), ("blob", report.BlobsRemoved), ("upload", report.UploadsRemoved) })
            _gcItems.Add(count, new KeyValuePair<string, object?>("kind", kind));
        _gcBytes.Add(report.BlobBytesRemoved, new KeyValuePair<string, object?>("kind", "blob"));
        _gcBytes.Add(report.UploadBytesRemoved, new KeyValuePair<string, object?>("kind", "upload"));
    }

    /// <summary>Prometheus text exposition format 0.0.4: counters with <c>_total</c>, then gauges measured at scrape time.</summary>
    public string Render(IEnumerable<(string Name, string Help, long Value)> gauges, IEnumerable<CounterFamily>? counted = null)
    {
        var text = new StringBuilder();
        // Counters kept elsewhere (the artifact cache's, in Core), read at scrape time.
        foreach (var family in counted ?? [])
        {
            text.Append("# HELP ").Append(family.Name).Append("_total ").Append(family.Help).Append('\n');
            text.Append("# TYPE ").Append(family.Name).Append("_total counter\n");
            foreach (var (labels, value) in family.Values)
                text.Append(family.Name).Append("_total").Append(labels).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        foreach (var (name, help) in _help)
        {
            text.Append("# HELP ").Append(name).Append("_total ").Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append("_total counter\n");
            foreach (var ((metric, labels), value) in _values.Where(v => v.Key.Name == name).OrderBy(v => v.Key.Labels, StringComparer.Ordinal))
                text.Append(metric).Append("_total").Append(labels).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        foreach (var (name, help, value) in gauges)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(" gauge\n");
            text.Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// The artifact cache's counters: pulls of rule-backed repositories answered from the cache (hit), fetched upstream
    /// (miss) or served stale because upstream failed, bytes read upstream, upstream errors by kind, and tag checks.
    /// </summary>
    public static IEnumerable<CounterFamily> ArtifactCache(Core.ArtifactCache.ArtifactCacheCounters counters) =>
    [
        new("berth_artifact_cache_pulls", "Pulls of cache-rule repositories by result (hit: served from the cache; miss: fetched upstream; stale: served from the cache because upstream failed).",
            [("{result=\"hit\"}", counters.Hits), ("{result=\"miss\"}", counters.Misses), ("{result=\"stale\"}", counters.StaleServed)]),
        new("berth_artifact_cache_upstream_bytes", "Bytes of manifests and blobs read from upstream registries.", [("", counters.UpstreamBytesRead)]),
        new("berth_artifact_cache_upstream_errors", "Failed upstream requests by kind.",
            Enum.GetValues<Core.Upstream.UpstreamErrorKind>().Select(kind =>
                ($"{{kind=\"{kind.ToString().ToLowerInvariant()}\"}}", counters.Errors.TryGetValue(kind, out var n) ? n : 0L)).ToList()),
        new("berth_artifact_cache_tag_checks", "Cached tags asked upstream again after the refresh interval.", [("", counters.TagChecks)]),
    ];

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0) return "";
        var pairs = new List<string>(tags.Length);
        foreach (var tag in tags) pairs.Add($"{tag.Key}=\"{Escape(tag.Value?.ToString() ?? "")}\"");
        pairs.Sort(StringComparer.Ordinal);
        return "{" + string.Join(',', pairs) + "}";
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    public void Dispose()
    {
        _listener.Dispose();
        _meter.Dispose();
    }
}
