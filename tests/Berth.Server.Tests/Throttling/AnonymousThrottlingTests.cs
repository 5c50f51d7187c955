using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace Berth.Server.Tests.Throttling;

public sealed class AnonymousThrottlingTests(ThrottlingTestServer server, ITestOutputHelper output) : IClassFixture<ThrottlingTestServer>
{
    private const string AcrMessage = "Too many requests. Please visit https://aka.ms/acr/skus#sku-feature-matrix to view limits of all service tiers.";

    [Fact]
    public async Task AnonymousFlood_Gets429sWhileAnAuthenticatedClientKeepsSucceeding()
    {
        using var anonymous = await server.CreateAnonymousClientAsync("127.0.0.2");
        using var admin = server.CreateClient(BerthTestServer.BasicAuthorization(server.AdminUsername, server.AdminPassword));
        var deadline = Stopwatch.StartNew();
        var limit = TimeSpan.FromSeconds(20);
        var sent = 0;
        var throttled = 0;
        var admitted = 0;
        var missingRetryAfter = 0;

        async Task FloodAsync()
        {
            while (deadline.Elapsed < limit && Interlocked.Increment(ref sent) <= 400)
            {
                using var response = await anonymous.GetAsync("/v2/_catalog");
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    Interlocked.Increment(ref throttled);
                    if (response.Headers.RetryAfter?.Delta is not { TotalSeconds: >= 1 }) Interlocked.Increment(ref missingRetryAfter);
                }
                else if (response.StatusCode == HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref admitted);
                }
            }
        }

        var adminSent = 0;
        var adminSucceeded = 0;
        async Task AuthenticatedAsync()
        {
            for (var i = 0; i < 100 && deadline.Elapsed < limit; i++)
            {
                using var response = await admin.GetAsync("/v2/_catalog");
                adminSent++;
                if (response.StatusCode == HttpStatusCode.OK) adminSucceeded++;
            }
        }

        await Task.WhenAll(FloodAsync(), FloodAsync(), FloodAsync(), FloodAsync(), AuthenticatedAsync());
        sent = Math.Min(sent, 400);

        output.WriteLine($"anonymous flood from 127.0.0.2: {sent} requests sent, {throttled} answered 429, {admitted} admitted, in {deadline.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"authenticated client (admin, Basic) during the flood: {adminSucceeded}/{adminSent} succeeded ({100.0 * adminSucceeded / Math.Max(1, adminSent):F1}%)");
        Assert.True(throttled > 0, "the flood was never throttled");
        Assert.Equal(0, missingRetryAfter);
        Assert.Equal(sent, throttled + admitted);
        Assert.True(adminSent > 0);
        Assert.Equal(adminSent, adminSucceeded);
    }

    [Fact]
    public async Task Rejection_IsAcrTooManyRequestsWithRetryAfterAndNoRemainingBudget()
    {
        using var anonymous = await server.CreateAnonymousClientAsync("127.0.0.4");

        using var response = await DrainAsync(anonymous, "/v2/_catalog");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.True(response.Headers.RetryAfter?.Delta?.TotalSeconds >= 1);
        Assert.Equal("0", Single(response, "x-ms-ratelimit-remaining-calls-per-second"));
        Assert.Equal("0", Single(response, "RateLimit-Remaining"));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = Assert.Single(body.RootElement.GetProperty("errors").EnumerateArray().ToList());
        Assert.Equal("TOOMANYREQUESTS", error.GetProperty("code").GetString());
        Assert.Equal(AcrMessage, error.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("detail").ValueKind);
    }

    [Fact]
    public async Task Retry_AfterTheRetryAfterSeconds_Succeeds()
    {
        // The Azure SDKs retry a 429 only when Retry-After is present, and wait exactly that long (reference §1.7).
        using var anonymous = await server.CreateAnonymousClientAsync("127.0.0.5");
        using var refused = await DrainAsync(anonymous, "/v2/_catalog");
        var retryAfter = refused.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("no Retry-After in seconds");

        await Task.Delay(retryAfter);
        using var retried = await anonymous.GetAsync("/v2/_catalog");

        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
    }

    [Fact]
    public async Task DrainedAddress_RefillsWhileItWaits()
    {
        using var anonymous = await server.CreateAnonymousClientAsync("127.0.0.6");
        using (await DrainAsync(anonymous, "/v2/_catalog")) { }

        await Task.Delay(TimeSpan.FromSeconds(3.2));
        var admitted = 0;
        for (var i = 0; i < 10; i++)
        {
            using var response = await anonymous.GetAsync("/v2/_catalog");
            if (response.StatusCode != HttpStatusCode.OK) break;
            admitted++;
        }

        Assert.InRange(admitted, 3, ThrottlingTestServer.AnonymousAddressBurst);
    }

    [Fact]
    public async Task TwoAnonymousAddresses_AreLimitedIndependently()
    {
        using var first = await server.CreateAnonymousClientAsync("127.0.0.2");
        using var second = await server.CreateAnonymousClientAsync("127.0.0.3");
        using var refused = await DrainAsync(first, "/v2/_catalog");

        using var response = await second.GetAsync("/v2/_catalog");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    [InlineData("/metrics")]
    public async Task OperationsEndpoint_IsNeverThrottled(string path)
    {
        using var client = server.CreateClientFrom("127.0.0.7");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 50; i++)
        {
            using var response = await client.GetAsync(path);
            statuses.Add(response.StatusCode);
        }

        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, statuses);
        Assert.All(statuses, status => Assert.Equal(statuses[0], status));
    }

    [Fact]
    public async Task AdmittedRequest_CarriesTheRemainingBudget()
    {
        using var admin = server.CreateClientFrom("127.0.0.8", BerthTestServer.BasicAuthorization(server.AdminUsername, server.AdminPassword));

        using var response = await admin.GetAsync("/v2/");

        // The admin's Standard read bucket holds 500 (ThrottlingTestServer); this request spent one of them.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.InRange(long.Parse(Single(response, "x-ms-ratelimit-remaining-calls-per-second")), 0, 499);
        Assert.Equal(Single(response, "x-ms-ratelimit-remaining-calls-per-second"), Single(response, "RateLimit-Remaining"));
    }

    /// <summary>Sends requests until one is refused (bounded); returns the refusal.</summary>
    private static async Task<HttpResponseMessage> DrainAsync(HttpClient client, string path)
    {
        for (var i = 0; i < 200; i++)
        {
            var response = await client.GetAsync(path);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) return response;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }
        throw new Xunit.Sdk.XunitException($"{path} was never throttled in 200 requests");
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.GetValues(header));
}
