using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Berth.Server.Tests.ArtifactCache;

/// <summary>A registry endpoint for the container tools: host and credentials.</summary>
public sealed record ToolEndpoint(string Host, string? Credentials) : IRegistryEndpoint;

/// <summary>
/// A Berth server whose artifact cache may reach the given loopback upstreams over plain HTTP, with a one-second tag
/// refresh interval so a moved upstream tag shows within a test.
/// </summary>
public sealed class CacheBerthServer(params string[] upstreams) : BerthTestServer
{
    protected override IEnumerable<string> ExtraArguments =>
        upstreams.Select((u, i) => $"--Berth:ArtifactCache:AllowHttpUpstreams:{i}={u}").Append("--Berth:ArtifactCache:TagRefreshInterval=00:00:01");

    public ToolEndpoint Endpoint => new(Host, AdminCredentials);

    /// <summary>PUTs an ARM child resource of the default registry (<c>cacheRules/x</c>, <c>credentialSets/y</c>) and returns the response.</summary>
    public async Task<HttpResponseMessage> PutAsync(string child, JsonObject body)
    {
        using var management = await this.CreateManagementClientAsync();
        return await management.PutAsJsonAsync($"{this.RegistryPath(RegistryName)}/{child}?api-version=2023-01-01-preview", body);
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string child, JsonObject? body = null)
    {
        using var management = await this.CreateManagementClientAsync();
        using var request = new HttpRequestMessage(method, $"{this.RegistryPath(RegistryName)}/{child}?api-version=2023-01-01-preview");
        if (body is not null) request.Content = JsonContent.Create(body);
        return await management.SendAsync(request);
    }

    public async Task CreateCredentialSetAsync(string name, string loginServer, string username, string password)
    {
        using var response = await PutAsync($"credentialSets/{name}", new JsonObject
        {
            ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
            ["properties"] = new JsonObject
            {
                ["loginServer"] = loginServer,
                ["authCredentials"] = new JsonArray(new JsonObject { ["name"] = "Credential1", ["username"] = username, ["password"] = password }),
            },
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task CreateRuleAsync(string name, string source, string target, string? credentialSet)
    {
        using var response = await PutRuleAsync(name, source, target, credentialSet);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>PUTs a cache rule and returns the response, whatever it is.</summary>
    public Task<HttpResponseMessage> PutRuleAsync(string name, string source, string target, string? credentialSet) =>
        PutAsync($"cacheRules/{name}", new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["sourceRepository"] = source,
                ["targetRepository"] = target,
                ["credentialSetResourceId"] = credentialSet is null ? null : $"{this.RegistryPath(RegistryName)}/credentialSets/{credentialSet}",
            },
        });

    /// <summary>A GET of a manifest with every manifest type accepted, as the admin.</summary>
    public async Task<HttpResponseMessage> GetManifestAsync(string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/{repository}/manifests/{reference}");
        foreach (var type in new[] { TestImage.ManifestMediaType, "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.v2+json" })
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        return await Client.SendAsync(request);
    }
}
