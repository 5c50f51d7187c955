using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Berth.Reliability.Tests.Availability;

/// <summary>A server whose database is a PostgreSQL cluster of its own, so stopping it disturbs no other test.</summary>
public sealed class OutagePostgreSqlBerthTestServer() : PostgreSqlBerthTestServer(throttled: false)
{
    private PostgreSqlServer? _cluster;

    protected override async Task<PostgreSqlServer> GetPostgreSqlServerAsync() => _cluster = await PostgreSqlServer.StartDedicatedAsync();

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (_cluster is not null) await _cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// The metadata database goes away under a running server and comes back: meanwhile every API answers 503 with
/// Retry-After in its own error shape (never a 500 or a stack trace) and readiness says not ready; afterwards the same
/// requests succeed on the pooled connections' replacements and the content pushed before is intact.
/// </summary>
public sealed class PostgreSqlOutageTests(OutagePostgreSqlBerthTestServer server) : IClassFixture<OutagePostgreSqlBerthTestServer>
{
    private const string Repository = "outage/app";

    [Fact]
    public async Task DatabaseStoppedThenStarted_503InEachApiShape_ThenServedAgainWithContentIntact()
    {
        var image = new TestImage(payloadSize: 64 * 1024);
        await server.Client.PushImageAsync(Repository, image, "v1");
        using var management = await server.CreateManagementClientAsync();
        // A repository token nobody has used yet: its token request must read it from the database, where the admin's
        // credentials are already in the identity cache. Likewise the manifest is not read before the outage (the push
        // invalidated the cached tag), so the GET must reach the database too.
        var password = await server.CreateTokenAsync("outage-puller", "outage-pull", [$"repositories/{Repository}/content/read"]);
        using var tokenClient = server.CreateClient(BerthTestServer.BasicAuthorization("outage-puller", password));
        var requests = Requests(management, tokenClient);
        // Connections the outage will kill wait in the pool.
        foreach (var request in requests.Where(r => r.Name is "tags list" or "ARM registry GET")) (await request.Send()).Dispose();

        await server.Postgres.StopAsync();
        try
        {
            foreach (var request in requests)
            {
                var clock = Stopwatch.StartNew();
                using var response = await request.Send();
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{request.Name}: {(int)response.StatusCode} {body}");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{request.Name} took {clock.Elapsed} to fail");
                Assert.NotNull(response.Headers.RetryAfter);
                Assert.DoesNotContain(" at Berth.", body);
                Assert.DoesNotContain("Exception", body);
                Assert.Contains("PostgreSQL", body);
                using var document = JsonDocument.Parse(body);
                if (request.Arm)
                    Assert.Equal("ServiceUnavailable", document.RootElement.GetProperty("error").GetProperty("code").GetString());
                else
                    Assert.Equal("UNAVAILABLE", document.RootElement.GetProperty("errors")[0].GetProperty("code").GetString());
            }

            using var ready = await server.Client.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("not ready\n", await ready.Content.ReadAsStringAsync());
        }
        finally
        {
            await server.Postgres.StartAsync();
        }

        // The first request after the restart already succeeds: the failures emptied the pool of dead connections.
        using (var ready = await server.Client.GetAsync("/readyz"))
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        foreach (var request in requests)
        {
            using var response = await request.Send();
            Assert.True(response.IsSuccessStatusCode, $"{request.Name} after the restart: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        Assert.Equal(image.Manifest, await server.Client.GetByteArrayAsync($"/v2/{Repository}/manifests/v1"));
        Assert.Equal(image.Layer, await server.Client.GetByteArrayAsync($"/v2/{Repository}/blobs/{image.LayerDigest}"));
        Assert.Equal(image.Config, await server.Client.GetByteArrayAsync($"/v2/{Repository}/blobs/{image.ConfigDigest}"));
        using var tags = JsonDocument.Parse(await server.Client.GetStringAsync($"/v2/{Repository}/tags/list"));
        Assert.Equal(["v1"], tags.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    private sealed record ApiRequest(string Name, bool Arm, Func<Task<HttpResponseMessage>> Send);

    private List<ApiRequest> Requests(HttpClient management, HttpClient tokenClient) =>
    [
        new("manifest GET", false, () => server.Client.GetAsync($"/v2/{Repository}/manifests/v1")),
        new("tags list", false, () => server.Client.GetAsync($"/v2/{Repository}/tags/list")),
        new("blob upload", false, () => server.Client.PostAsync($"/v2/{Repository}/blobs/uploads/", null)),
        new("token request", false, () => tokenClient.GetAsync($"/oauth2/token?service={server.LoginServer}&scope=repository:{Repository}:pull")),
        new("ARM registry GET", true, () => management.GetAsync(server.RegistryPath(server.RegistryName) + "?api-version=2023-07-01")),
    ];
}
