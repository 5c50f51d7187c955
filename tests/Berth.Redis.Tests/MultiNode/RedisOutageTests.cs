using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Berth.Redis.Tests.Infrastructure;

namespace Berth.Redis.Tests.MultiNode;

/// <summary>Two nodes on a Redis server of their own, which the test stops and starts.</summary>
public sealed class OutageNodes : TwoNodes
{
    public RedisServer Redis { get; private set; } = null!;

    protected override async Task<string> RedisConfigurationAsync()
    {
        Redis = await RedisServer.StartNewAsync();
        return Redis.Configuration;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Redis is not null) await Redis.DisposeAsync();
    }
}

public sealed class RedisOutageTests(OutageNodes nodes) : IClassFixture<OutageNodes>
{
    [Fact]
    public async Task RedisStopped_RequestsGet503NamingRedis_ThenRecoverWhenItReturns()
    {
        var first = new TestImage();
        await nodes.A.Client.PushImageAsync("outage/app", first, "1");
        Assert.Equal(HttpStatusCode.OK, (await nodes.B.Client.GetAsync("/v2/outage/app/manifests/1")).StatusCode);

        await nodes.Redis.StopAsync();
        try
        {
            using var response = await nodes.B.Client.GetAsync("/v2/outage/app/manifests/1");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var error = body.RootElement.GetProperty("errors")[0];
            Assert.Equal("UNAVAILABLE", error.GetProperty("code").GetString());
            Assert.StartsWith("Redis is unavailable", error.GetProperty("message").GetString());
            using var readiness = await nodes.B.Client.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, readiness.StatusCode);
        }
        finally
        {
            await nodes.Redis.StartAsync();
        }

        // Redis came back empty; the nodes reconnect by themselves within a few seconds.
        await WaitForAsync(nodes.A, "/v2/outage/app/manifests/1");
        await WaitForAsync(nodes.B, "/v2/outage/app/manifests/1");
        Assert.Equal(HttpStatusCode.OK, (await nodes.B.Client.GetAsync("/readyz")).StatusCode);

        // The counters restarted, above anything the nodes cached under: a change through A still reaches B.
        var second = new TestImage();
        await nodes.A.Client.PushImageAsync("outage/app", second, "1");
        using var moved = await nodes.B.Client.GetAsync("/v2/outage/app/manifests/1");
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal(second.ManifestDigest, moved.Headers.GetValues("Docker-Content-Digest").Single());
    }

    private static async Task WaitForAsync(BerthTestServer node, string path)
    {
        var clock = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            using var response = await node.Client.GetAsync(path);
            status = response.StatusCode;
            if (status == HttpStatusCode.OK) return;
            await Task.Delay(200);
        }
        while (clock.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Fail($"{path} still answers {(int)status} 30 s after Redis returned");
    }
}
