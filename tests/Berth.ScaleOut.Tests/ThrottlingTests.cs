using System.Net;
using System.Net.Http.Json;
using Berth.ScaleOut.Tests.Infrastructure;

namespace Berth.ScaleOut.Tests;

/// <summary>Throttle budgets belong to the registry, not to a node: two nodes together admit one budget, not two.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ThrottlingTests(Cluster cluster)
{
    [Fact(Timeout = 120_000)]
    public async Task AnonymousTokenBudget_DrainedThroughBothNodes_AdmitsOneBudgetInTotal()
    {
        var loginServer = await EnsureThrottledRegistryAsync();
        using var client = cluster.CreateHttpClient(anonymous: true);
        var budget = (int)(Cluster.PremiumTokenBurst * Cluster.AnonymousShare);
        var logStart = cluster.Nginx.ReadAccessLog().Count;

        var admitted = 0;
        var refused = 0;
        for (var i = 0; i < budget * 3; i++)
        {
            // Host picks the registry; nginx passes it through unchanged and alternates the nodes.
            using var request = new HttpRequestMessage(HttpMethod.Get, $"oauth2/token?service={loginServer}&scope=repository:scaleout/throttled:pull");
            request.Headers.Host = loginServer;
            using var response = await client.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.OK) admitted++;
            else if (response.StatusCode == HttpStatusCode.TooManyRequests) refused++;
            else Assert.Fail($"anonymous token request {i} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        var servedBy = (await cluster.Nginx.ReadAccessLogAsync(logStart + budget * 3)).Skip(logStart).Where(e => e.Proxied).Select(e => e.ServedBy).Distinct().Count();
        Assert.Equal(2, servedBy);
        // One shared bucket admits the budget (plus at most a refill's worth); a bucket per node would admit twice as many.
        Assert.InRange(admitted, budget, budget + 2);
        Assert.Equal(budget * 3 - admitted, refused);
    }

    /// <summary>Creates the Premium registry (through node A's management plane) with anonymous pull on; returns its login server.</summary>
    private async Task<string> EnsureThrottledRegistryAsync()
    {
        var (management, registries) = await cluster.CreateManagementClientAsync(cluster.NodeA);
        using var _ = management;
        using var response = await management.PutAsJsonAsync($"{registries}/{Cluster.ThrottledRegistry}?api-version=2023-07-01", new
        {
            location = "local",
            sku = new { name = "Premium" },
            properties = new { anonymousPullEnabled = true },
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"creating {Cluster.ThrottledRegistry} answered {(int)response.StatusCode}: {body}");
        using var json = System.Text.Json.JsonDocument.Parse(body);
        return json.RootElement.GetProperty("properties").GetProperty("loginServer").GetString()!;
    }
}
