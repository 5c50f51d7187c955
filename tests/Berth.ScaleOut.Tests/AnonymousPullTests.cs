using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Berth.ScaleOut.Tests.Infrastructure;

namespace Berth.ScaleOut.Tests;

/// <summary>
/// A setting changed through one node applies to the very next request on the other: the nodes may cache registry
/// settings, but a change through any node invalidates every node's cache.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class AnonymousPullTests(Cluster cluster)
{
    private const string Repository = "scaleout/public";

    [Fact(Timeout = 120_000)]
    public async Task AnonymousPullSwitchedOnNodeA_AppliesToNodeBsNextRequest()
    {
        var image = new TestImage();
        using (var push = cluster.CreateHttpClient())
        {
            await push.PushImageAsync(Repository, image, "1");
        }
        var (management, registries) = await cluster.CreateManagementClientAsync(cluster.NodeA);
        using var _ = management;
        var registryPath = $"{registries}/{Cluster.DefaultRegistry}?api-version=2023-07-01";
        using var nodeB = cluster.NodeB.CreateHttpClient();

        try
        {
            await SetAnonymousPullAsync(management, registryPath, true);
            var token = await GetAnonymousTokenAsync(nodeB);
            Assert.NotNull(token);
            Assert.Equal(HttpStatusCode.OK, await GetManifestStatusAsync(nodeB, token));

            await SetAnonymousPullAsync(management, registryPath, false);
            // The token B issued a moment ago is refused at once, and B issues no new one.
            Assert.Equal(HttpStatusCode.Unauthorized, await GetManifestStatusAsync(nodeB, token));
            Assert.Null(await GetAnonymousTokenAsync(nodeB));

            await SetAnonymousPullAsync(management, registryPath, true);
            var again = await GetAnonymousTokenAsync(nodeB);
            Assert.NotNull(again);
            Assert.Equal(HttpStatusCode.OK, await GetManifestStatusAsync(nodeB, again));
        }
        finally
        {
            await SetAnonymousPullAsync(management, registryPath, false);
        }
    }

    private static async Task SetAnonymousPullAsync(HttpClient management, string registryPath, bool enabled)
    {
        using var response = await management.PatchAsJsonAsync(registryPath, new { properties = new { anonymousPullEnabled = enabled } });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"PATCH anonymousPullEnabled={enabled} answered {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        Assert.Equal(enabled, json.RootElement.GetProperty("properties").GetProperty("anonymousPullEnabled").GetBoolean());
    }

    /// <summary>Follows the challenge as docker does with no credentials; null when the token service refuses.</summary>
    private static async Task<string?> GetAnonymousTokenAsync(HttpClient node)
    {
        using var challenge = await node.GetAsync($"v2/{Repository}/manifests/1");
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        var parameters = challenge.Headers.WwwAuthenticate.Single().Parameter!.Split(',')
            .Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1].Trim('"'));
        using var response = await node.GetAsync(
            $"{parameters["realm"]}?service={Uri.EscapeDataString(parameters["service"])}&scope={Uri.EscapeDataString(parameters["scope"])}");
        if (response.StatusCode == HttpStatusCode.Unauthorized) return null;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (json.RootElement.TryGetProperty("access_token", out var token) ? token : json.RootElement.GetProperty("token")).GetString();
    }

    private static async Task<HttpStatusCode> GetManifestStatusAsync(HttpClient node, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{Repository}/manifests/1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.ParseAdd(TestImage.ManifestMediaType);
        using var response = await node.SendAsync(request);
        return response.StatusCode;
    }
}
