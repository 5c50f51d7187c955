using System.Net;
using Berth.ScaleOut.Tests.Infrastructure;

namespace Berth.ScaleOut.Tests;

/// <summary>
/// Clients must come back through the balancer: the token realm a node names is built from the Host nginx passes
/// through, and from X-Forwarded-Proto when the balancer is a trusted proxy (TLS ending at the balancer).
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ForwardingTests(Cluster cluster)
{
    [Fact(Timeout = 60_000)]
    public async Task Challenge_ThroughNginx_NamesTheBalancerAsRealmOnBothNodes()
    {
        using var client = cluster.CreateHttpClient(anonymous: true);
        var logStart = cluster.Nginx.ReadAccessLog().Count;
        for (var i = 0; i < 2; i++)
        {
            using var response = await client.GetAsync("v2/");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.StartsWith($"realm=\"http://{cluster.Host}/oauth2/token\"", response.Headers.WwwAuthenticate.Single().Parameter);
        }
        Assert.Equal(2, (await cluster.Nginx.ReadAccessLogAsync(logStart + 2)).Skip(logStart).Where(e => e.Proxied).Select(e => e.ServedBy).Distinct().Count());
    }

    [Fact(Timeout = 60_000)]
    public async Task ForwardedProtoFromTrustedProxy_MakesTheRealmHttps()
    {
        // The test talks to node A from loopback, the address the nodes trust as their balancer.
        using var client = cluster.NodeA.CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "v2/");
        request.Headers.Host = "registry.example.com";
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("realm=\"https://registry.example.com/oauth2/token\"", response.Headers.WwwAuthenticate.Single().Parameter);
    }
}
