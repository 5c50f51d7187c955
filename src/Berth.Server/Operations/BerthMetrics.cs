using System.Collections.Concurrent;
using System.Globalization;
using Berth.Core.Maintenance;
using Berth.Core.ArtifactCache;
using Berth.Core.Upstream;
using Prometheus;

namespace Berth.Server.Operations;

/// <summary>
/// Berth's metrics, kept and written in Prometheus' exposition formats by prometheus-net. Each server has a registry
/// of its own (never the library's static default), so two servers in one process (tests) never count each other's
/// requests, and <c>/metrics</c> shows exactly this server's series.
/// </summary>
public sealed class BerthMetrics
{
    /// <summary>
    /// Request durations from sub-millisecond HEADs to multi-minute blob transfers; the 1-2-5 ladder keeps the
    /// quantile error under half a step across that range with 18 buckets per series.
    /// </summary>
    public static readonly double[] DurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500];

    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly Counter _requests;
    private readonly Histogram _requestDuration;
    private readonly Counter _requestBytes;
    private readonly Counter _responseBytes;
    private readonly Counter _throttled;
    private readonly Counter _tokensIssued;
    private readonly Counter _uploadsStarted;
    private readonly Counter _gcRuns;
    private readonly Counter _gcItems;
    private readonly Counter _gcBytes;
    private readonly Gauge _uploadsActive;
    private readonly Counter _cachePulls;
    private readonly Counter _cacheUpstreamBytes;
    private readonly Counter _cacheUpstreamErrors;
    private readonly Counter _cacheTagChecks;

    /// <summary>
    /// The series one request touches, found once per (group, method, status) so that the per-request cost is one
    /// dictionary lookup and a few interlocked adds, with no label arrays or strings allocated.
    /// </summary>
    private readonly ConcurrentDictionary<(string Group, string Method, int Status), RequestSeries> _requestSeries = new();

    public BerthMetrics()
    {
        var metrics = Metrics.WithCustomRegistry(_registry);
        _requests = metrics.CreateCounter("berth_http_requests_total", "HTTP requests by endpoint group and status code.", "group", "status");
        _requestDuration = metrics.CreateHistogram("berth_http_request_duration_seconds",
            "Time from the request's arrival to its last response byte, by endpoint group, method and status class.",
            ["group", "method", "status_class"], new HistogramConfiguration { Buckets = DurationBuckets });
        _requestBytes = metrics.CreateCounter("berth_http_request_bytes_total", "Request body bytes received, by endpoint group.", "group");
        _responseBytes = metrics.CreateCounter("berth_http_response_bytes_total",
            "Response body bytes sent (as declared by Content-Length), by endpoint group.", "group");
        _throttled = metrics.CreateCounter("berth_throttled_requests_total", "Requests refused with 429 TOOMANYREQUESTS, by endpoint group.", "group");
        _tokensIssued = metrics.CreateCounter("berth_tokens_issued_total", "Registry tokens issued by the token service (/oauth2/token and /oauth2/exchange).");
        _uploadsStarted = metrics.CreateCounter("berth_upload_sessions_started_total", "Blob upload sessions started.");
        _gcRuns = metrics.CreateCounter("berth_gc_runs_total", "Garbage collection runs, by mode (dry_run true or false).", "dry_run");
        _gcItems = metrics.CreateCounter("berth_gc_removed_items_total", "Items garbage collection removed, by kind (manifest, blob_link, blob, upload).", "kind");
        _gcBytes = metrics.CreateCounter("berth_gc_removed_bytes_total", "Bytes garbage collection freed, by kind (blob, upload).", "kind");
        _uploadsActive = metrics.CreateGauge("berth_upload_sessions_active", "Blob upload sessions in progress (upload areas in the blob store).");
        _cachePulls = metrics.CreateCounter("berth_artifact_cache_pulls_total",
            "Pulls of cache-rule repositories by result (hit: served from the cache; miss: fetched upstream; stale: served from the cache because upstream failed).", "result");
        _cacheUpstreamBytes = metrics.CreateCounter("berth_artifact_cache_upstream_bytes_total", "Bytes of manifests and blobs read from upstream registries.");
        _cacheUpstreamErrors = metrics.CreateCounter("berth_artifact_cache_upstream_errors_total", "Failed upstream requests by kind.", "kind");
        _cacheTagChecks = metrics.CreateCounter("berth_artifact_cache_tag_checks_total", "Cached tags asked upstream again after the refresh interval.");
    }

    public void RequestCompleted(string group, string method, int status, long requestBytes, long responseBytes, double seconds)
    {
        var series = _requestSeries.GetOrAdd((group, method, status), CreateRequestSeries);
        series.Requests.Inc();
        series.Duration.Observe(seconds);
        if (requestBytes > 0) series.RequestBytes.Inc(requestBytes);
        if (responseBytes > 0) series.ResponseBytes.Inc(responseBytes);
        if (status == StatusCodes.Status429TooManyRequests) _throttled.WithLabels(group).Inc();
    }

    private RequestSeries CreateRequestSeries((string Group, string Method, int Status) key)
    {
        var statusClass = key.Status is >= 100 and < 600 ? StatusClasses[key.Status / 100 - 1] : "other";
        return new RequestSeries(
            _requests.WithLabels(key.Group, key.Status.ToString(CultureInfo.InvariantCulture)),
            _requestDuration.WithLabels(key.Group, key.Method, statusClass),
            _requestBytes.WithLabels(key.Group),
            _responseBytes.WithLabels(key.Group));
    }

    public void TokenIssued() => _tokensIssued.Inc();

    public void UploadStarted() => _uploadsStarted.Inc();

    public void GarbageCollected(GarbageCollectionReport report)
    {
        if (report.Skipped is not null) return; // another node ran it and counts it
        _gcRuns.WithLabels(report.DryRun ? "true" : "false").Inc();
        if (report.DryRun) return;
        foreach (var (kind, count) in new[] { ("manifest", report.ManifestsRemoved), ("blob_link", report.BlobLinksRemoved), ("blob", report.BlobsRemoved), ("upload", report.UploadsRemoved) })
            _gcItems.WithLabels(kind).Inc(count);
        _gcBytes.WithLabels("blob").Inc(report.BlobBytesRemoved);
        _gcBytes.WithLabels("upload").Inc(report.UploadBytesRemoved);
    }

    /// <summary>
    /// Writes every series in Prometheus text format 0.0.4, after setting the gauges measured at scrape time (they
    /// come in as arguments because measuring them is I/O that may fail, and a failed scrape must answer as the
    /// endpoint's group says, not with a half-written body).
    /// </summary>
    public Task WriteAsync(Stream destination, long uploadSessionsActive, ArtifactCacheCounters cache, CancellationToken cancellationToken)
    {
        _uploadsActive.Set(uploadSessionsActive);
        // The artifact cache counts in Core, where no metrics library is known; its totals are copied in at each scrape.
        _cachePulls.WithLabels("hit").IncTo(cache.Hits);
        _cachePulls.WithLabels("miss").IncTo(cache.Misses);
        _cachePulls.WithLabels("stale").IncTo(cache.StaleServed);
        _cacheUpstreamBytes.IncTo(cache.UpstreamBytesRead);
        _cacheTagChecks.IncTo(cache.TagChecks);
        foreach (var kind in Enum.GetValues<UpstreamErrorKind>())
            _cacheUpstreamErrors.WithLabels(kind.ToString().ToLowerInvariant()).IncTo(cache.Errors.TryGetValue(kind, out var count) ? count : 0);
        return _registry.CollectAndExportAsTextAsync(destination, cancellationToken);
    }

    private sealed record RequestSeries(Counter.Child Requests, Histogram.Child Duration, Counter.Child RequestBytes, Counter.Child ResponseBytes);
}
