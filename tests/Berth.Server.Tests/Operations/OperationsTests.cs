using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Berth.Server.Operations;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Berth.Server.Tests.Operations;

/// <summary>A test server whose log events are captured, to inspect the audit trail.</summary>
public sealed class AuditedBerthTestServer : BerthTestServer
{
    public CapturingLoggerProvider Logs { get; } = new();

    protected override void OnBuilt(WebApplication app) => app.Services.GetRequiredService<ILoggerFactory>().AddProvider(Logs);
}

public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, EventId Event, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((category, eventId, formatter(state, exception)));
    }
}

public sealed partial class OperationsTests(AuditedBerthTestServer server, ITestOutputHelper output) : IClassFixture<AuditedBerthTestServer>
{
    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)\})? (?<value>-?[0-9.eE+]+)$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram))$""")]
    private static partial Regex CommentLine();

    private async Task<Dictionary<string, double>> ScrapeAsync()
    {
        using var anonymous = server.CreateClient();
        using var response = await anonymous.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType);
        var samples = new Dictionary<string, double>();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                Assert.Matches(CommentLine(), line);
                continue;
            }
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample line: {line}");
            samples[line[..line.LastIndexOf(' ')]] = double.Parse(match.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture);
        }
        return samples;
    }

    private static double Value(Dictionary<string, double> samples, string key) => samples.GetValueOrDefault(key);

    [Fact]
    public async Task Metrics_ParseAsPrometheusText_AndCountRequestsByGroupAndStatus()
    {
        var before = await ScrapeAsync();
        using var anonymous = server.CreateClient();
        for (var i = 0; i < 3; i++) (await anonymous.GetAsync("/v2/")).Dispose();
        (await server.Client.GetAsync("/v2/_catalog")).Dispose();
        var blob = Encoding.UTF8.GetBytes("metrics-test-blob-" + Guid.NewGuid());
        await server.Client.PushBlobAsync("metrics/repo", blob);

        var after = await ScrapeAsync();
        Assert.Equal(3, Value(after, """berth_http_requests_total{group="v2_base",status="401"}""") - Value(before, """berth_http_requests_total{group="v2_base",status="401"}"""));
        Assert.True(Value(after, """berth_http_requests_total{group="catalog",status="200"}""") > Value(before, """berth_http_requests_total{group="catalog",status="200"}"""));
        Assert.True(Value(after, """berth_http_request_bytes_total{group="upload"}""") - Value(before, """berth_http_request_bytes_total{group="upload"}""") >= blob.Length);
        Assert.True(after.ContainsKey("berth_upload_sessions_active"));
        Assert.True(Value(after, "berth_tokens_issued_total") >= 0);
    }

    [Fact]
    public async Task Metrics_TimeRequestsInHistogramsByGroupMethodAndStatusClass()
    {
        const string V2 = "group=\"v2_base\",method=\"GET\",status_class=\"4xx\"";
        const string Upload = "group=\"upload\",method=\"POST\",status_class=\"2xx\""; // a monolithic upload: one POST, 201
        const string Manifest = "group=\"manifest\",method=\"HEAD\",status_class=\"4xx\"";
        var before = await ScrapeAsync();
        using var anonymous = server.CreateClient();
        for (var i = 0; i < 4; i++) (await anonymous.GetAsync("/v2/")).Dispose();
        await server.Client.PushBlobAsync("metrics/timed", Encoding.UTF8.GetBytes("timed " + Guid.NewGuid()));
        (await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/metrics/timed/manifests/missing"))).Dispose();
        var after = await ScrapeAsync();

        foreach (var (labels, expected) in new[] { (V2, 4), (Upload, 1), (Manifest, 1) })
        {
            string Series(string suffix, string? le = null) =>
                $"berth_http_request_duration_seconds_{suffix}{{{labels}{(le is null ? "" : $",le=\"{le}\"")}}}";
            double Delta(string key) => Value(after, key) - Value(before, key);

            Assert.Equal(expected, Delta(Series("count")));
            Assert.Equal(expected, Delta(Series("bucket", "+Inf")));
            var sum = Delta(Series("sum"));
            Assert.InRange(sum, double.Epsilon, 60 * expected); // seconds, not milliseconds or ticks
            // Every bucket is present, cumulative (never fewer below a larger bound), and the count is the +Inf bucket.
            var bounds = BerthMetrics.DurationBuckets.Select(b => b.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("+Inf").ToArray();
            var cumulative = bounds.Select(le =>
            {
                Assert.True(after.ContainsKey(Series("bucket", le)), $"no bucket le={le} for {labels}");
                return Value(after, Series("bucket", le));
            }).ToArray();
            Assert.Equal(cumulative.Order(), cumulative);
            Assert.Equal(Value(after, Series("count")), cumulative[^1]);
        }
        // Durations are per group: none of the requests above is counted under another group's series.
        Assert.Equal(0, Value(after, """berth_http_request_duration_seconds_count{group="catalog",method="GET",status_class="4xx"}""")
            - Value(before, """berth_http_request_duration_seconds_count{group="catalog",method="GET",status_class="4xx"}"""));
    }

    [Fact]
    public async Task Metrics_ALabelForAnUnknownMethodIsOther()
    {
        const string Other = """berth_http_request_duration_seconds_count{group="v2_base",method="other",status_class="4xx"}""";
        var before = await ScrapeAsync();
        using var anonymous = server.CreateClient();
        (await anonymous.SendAsync(new HttpRequestMessage(new HttpMethod("BREW" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant()), "/v2/"))).Dispose();
        var after = await ScrapeAsync();
        Assert.Equal(1, Value(after, Other) - Value(before, Other));
    }

    [Fact]
    public async Task Metrics_CountAManifestInARepositoryNamedLikeBlobsAsAManifest()
    {
        const string Manifest = """berth_http_requests_total{group="manifest",status="404"}""";
        const string Blob = """berth_http_requests_total{group="blob",status="404"}""";
        var before = await ScrapeAsync();
        (await server.Client.GetAsync("/v2/team/blobs/app/manifests/missing")).Dispose();
        var after = await ScrapeAsync();
        Assert.Equal(1, Value(after, Manifest) - Value(before, Manifest));
        Assert.Equal(0, Value(after, Blob) - Value(before, Blob));
    }

    [Fact]
    public async Task Metrics_AreNeverBehindAuthentication()
    {
        using var anonymous = server.CreateClient();
        using var withBadCredentials = server.CreateClient(BerthTestServer.BasicAuthorization("nobody", "wrong"));
        foreach (var client in new[] { anonymous, withBadCredentials })
        {
            using var response = await client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task GarbageCollect_WithoutManagementToken_Is401()
    {
        using var anonymous = server.CreateClient();
        using var response = await anonymous.PostAsync(server.RegistryPath(server.RegistryName) + "/garbageCollect?dryRun=true", null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var registryAdmin = await server.Client.PostAsync(server.RegistryPath(server.RegistryName) + "/garbageCollect", null);
        Assert.Equal(HttpStatusCode.Unauthorized, registryAdmin.StatusCode);
    }

    [Fact]
    public async Task GarbageCollect_DryRunReports_ThenRunRemovesAnAgedUnreferencedBlob()
    {
        var repository = "gc/repo" + Guid.NewGuid().ToString("N")[..6];
        var content = Encoding.UTF8.GetBytes("never referenced " + Guid.NewGuid());
        var digest = await server.Client.PushBlobAsync(repository, content);
        Age(digest);
        using var management = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName) + "/garbageCollect";

        var dry = await PostJsonAsync(management, path + "?dryRun=true");
        Assert.True(dry["dryRun"]!.GetValue<bool>());
        Assert.Contains(dry["blobLinks"]!.AsArray(), l => l!["digest"]!.GetValue<string>() == digest && l["repository"]!.GetValue<string>() == repository);
        Assert.Contains(dry["blobs"]!.AsArray(), b => b!["digest"]!.GetValue<string>() == digest && b["size"]!.GetValue<long>() == content.Length);
        using (var head = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}")))
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);

        var before = await ScrapeAsync();
        var real = await PostJsonAsync(management, path);
        output.WriteLine(real["summary"]!.GetValue<string>());
        Assert.False(real["dryRun"]!.GetValue<bool>());
        Assert.Contains(real["blobs"]!.AsArray(), b => b!["digest"]!.GetValue<string>() == digest);
        using (var head = await server.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}")))
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);

        var after = await ScrapeAsync();
        Assert.Equal(1, Value(after, """berth_gc_runs_total{dry_run="false"}""") - Value(before, """berth_gc_runs_total{dry_run="false"}"""));
        Assert.True(Value(after, """berth_gc_removed_bytes_total{kind="blob"}""") - Value(before, """berth_gc_removed_bytes_total{kind="blob"}""") >= content.Length);
    }

    [Fact]
    public async Task CheckIntegrity_ReportsACorruptBlob_AndQuarantinesIt()
    {
        var repository = "fsck/repo" + Guid.NewGuid().ToString("N")[..6];
        var digest = await server.Client.PushBlobAsync(repository, Encoding.UTF8.GetBytes("soon corrupt " + Guid.NewGuid()));
        var file = BlobFile(digest);
        await File.WriteAllTextAsync(file, "flipped bits");
        using var management = await server.CreateManagementClientAsync();
        var owner = server.ReadOwnerCredential();
        var path = $"/subscriptions/{owner.SubscriptionId}/providers/Microsoft.ContainerRegistry/checkIntegrity";

        var report = await PostJsonAsync(management, path);
        Assert.False(report["healthy"]!.GetValue<bool>());
        Assert.Contains(report["problems"]!.AsArray(), p => p!["kind"]!.GetValue<string>() == "corrupt-blob" && p["subject"]!.GetValue<string>() == digest);
        Assert.True(File.Exists(file));

        var quarantined = await PostJsonAsync(management, path + "?quarantine=true");
        var problem = quarantined["problems"]!.AsArray().Single(p => p!["kind"]!.GetValue<string>() == "corrupt-blob" && p["subject"]!.GetValue<string>() == digest)!;
        var target = problem["quarantinedTo"]!.GetValue<string>();
        Assert.StartsWith(Path.Combine(server.DataPath, "quarantine"), target);
        Assert.Equal("flipped bits", await File.ReadAllTextAsync(target));
        Assert.False(File.Exists(file));
        // The link now points at nothing: reported, not silently dropped.
        var after = await PostJsonAsync(management, path);
        Assert.Contains(after["problems"]!.AsArray(), p => p!["kind"]!.GetValue<string>() == "missing-blob" && p["subject"]!.GetValue<string>().EndsWith(digest));
    }

    [Fact]
    public async Task AuditTrail_RecordsFailuresAndChanges_WithoutSecrets()
    {
        const string wrongPassword = "Wr0ng-Passw0rd-Never-Logged";
        const string bogusBearer = "bogus.bearer.token-never-logged";
        using (var bad = server.CreateClient(BerthTestServer.BasicAuthorization(server.AdminUsername, wrongPassword)))
        {
            (await bad.GetAsync("/v2/_catalog")).Dispose();
            (await bad.GetAsync($"/oauth2/token?service={server.LoginServer}&scope=registry:catalog:*")).Dispose();
        }
        using (var bad = server.CreateClient(new AuthenticationHeaderValue("Bearer", bogusBearer)))
            (await bad.GetAsync("/subscriptions")).Dispose();
        using (var signIn = server.CreateClient())
        {
            using var form = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials", ["client_id"] = server.ReadOwnerCredential().ClientId, ["client_secret"] = wrongPassword,
                ["resource"] = ManagementAccess.ArmResource,
            });
            (await signIn.PostAsync("/adfs/oauth2/token", form)).Dispose();
        }
        using (var management = await server.CreateManagementClientAsync())
            (await management.PostAsync(server.RegistryPath(server.RegistryName) + "/garbageCollect?dryRun=true", null)).Dispose();

        var audit = server.Logs.Entries.Where(e => e.Category == Audit.Category).ToList();
        foreach (var entry in audit) output.WriteLine($"{entry.Event.Name}: {entry.Message}");
        Assert.Contains(audit, e => e.Event.Name == "DataPlaneAuthenticationFailed" && e.Message.Contains("/v2/_catalog"));
        Assert.Contains(audit, e => e.Event.Name == "TokenRequestRefused");
        Assert.Contains(audit, e => e.Event.Name == "ManagementAuthenticationFailed" && e.Message.Contains("/subscriptions"));
        Assert.Contains(audit, e => e.Event.Name == "SignInRefused");
        Assert.Contains(audit, e => e.Event.Name == "ManagementChange" && e.Message.Contains("garbageCollect"));

        var secrets = new[] { wrongPassword, bogusBearer, server.AdminPassword, server.ReadOwnerCredential().ClientSecret, "Basic ", "Bearer " };
        foreach (var (category, _, message) in server.Logs.Entries)
            foreach (var secret in secrets)
                Assert.DoesNotContain(secret, message);
    }

    private static async Task<JsonNode> PostJsonAsync(HttpClient client, string path)
    {
        using var response = await client.PostAsync(path, null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    private string BlobFile(string digest)
    {
        var hex = digest["sha256:".Length..];
        return Path.Combine(server.DataPath, "storage", "blobs", "sha256", hex[..2], hex);
    }

    /// <summary>Makes a pushed blob look old to garbage collection: its link and its file both date from 2001.</summary>
    private void Age(string digest)
    {
        File.SetLastWriteTimeUtc(BlobFile(digest), new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        using var connection = new SqliteConnection($"Data Source={Path.Combine(server.DataPath, "metadata", "berth.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout=10000; UPDATE blob_links SET created_at = 978307200000 WHERE digest = $d;";
        command.Parameters.AddWithValue("$d", digest);
        Assert.True(command.ExecuteNonQuery() > 0);
    }
}
