using System.Net;
using System.Text.Json.Nodes;
using Berth.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Server.Tests.ArtifactCache;

/// <summary>The ARM resources <c>cacheRules</c> and <c>credentialSets</c>: ACR's shapes, validation and limits, and secrets kept encrypted.</summary>
public sealed class CacheManagementTests : IAsyncLifetime
{
    private readonly CacheBerthServer _berth = new();

    public Task InitializeAsync() => _berth.InitializeAsync();

    public Task DisposeAsync() => _berth.DisposeAsync();

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    [Fact]
    public async Task CredentialSet_SecretsAreNeverReturned_AndAreEncryptedAtRest()
    {
        await _berth.CreateCredentialSetAsync("dockerhub", "docker.io", "hub-user", "hub-secret-123");

        using var shown = await _berth.SendAsync(HttpMethod.Get, "credentialSets/dockerhub");
        var text = await shown.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, shown.StatusCode);
        Assert.DoesNotContain("hub-secret-123", text);
        Assert.DoesNotContain("hub-user", text);
        var body = JsonNode.Parse(text)!;
        Assert.Equal("docker.io", body["properties"]!["loginServer"]!.GetValue<string>());
        Assert.Equal("Healthy", body["properties"]!["authCredentials"]![0]!["credentialHealth"]!["status"]!.GetValue<string>());
        Assert.Equal("SystemAssigned", body["identity"]!["type"]!.GetValue<string>());

        var stored = await _berth.Services.GetRequiredService<IArtifactCacheStore>().GetCredentialSetOrNullAsync(_berth.RegistryName, "dockerhub", CancellationToken.None);
        Assert.StartsWith("$aes256gcm$", stored!.ProtectedPassword);
        Assert.DoesNotContain("hub-secret-123", stored.ProtectedPassword);
        Assert.DoesNotContain("hub-user", stored.ProtectedUsername);
    }

    [Fact]
    public async Task CacheRule_PutGetListPatchDelete_InAcrsShapes()
    {
        await _berth.CreateCredentialSetAsync("dockerhub", "docker.io", "u", "p");
        using (var created = await _berth.PutAsync("cacheRules/ubuntu-rule", new JsonObject
        {
            ["properties"] = new JsonObject { ["sourceRepository"] = "docker.io/library/ubuntu", ["targetRepository"] = "ubuntu", ["credentialSetResourceId"] = null },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var rule = await JsonAsync(created);
            Assert.Equal("Succeeded", rule["properties"]!["provisioningState"]!.GetValue<string>());
            Assert.Null(rule["properties"]!["credentialSetResourceId"]);
            Assert.EndsWith("/cacheRules/ubuntu-rule", rule["id"]!.GetValue<string>());
        }

        using (var patched = await _berth.SendAsync(HttpMethod.Patch, "cacheRules/ubuntu-rule", new JsonObject
        {
            ["properties"] = new JsonObject { ["credentialSetResourceId"] = $"{_berth.RegistryPath(_berth.RegistryName)}/credentialSets/dockerhub" },
        }))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            Assert.EndsWith("/credentialSets/dockerhub", (await JsonAsync(patched))["properties"]!["credentialSetResourceId"]!.GetValue<string>());
        }

        using (var list = await _berth.SendAsync(HttpMethod.Get, "cacheRules"))
            Assert.Equal("ubuntu-rule", (await JsonAsync(list))["value"]![0]!["name"]!.GetValue<string>());

        using (var inUse = await _berth.SendAsync(HttpMethod.Delete, "credentialSets/dockerhub"))
            Assert.Equal(HttpStatusCode.Conflict, inUse.StatusCode);

        using (var deleted = await _berth.SendAsync(HttpMethod.Delete, "cacheRules/ubuntu-rule"))
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        using (var gone = await _berth.SendAsync(HttpMethod.Get, "cacheRules/ubuntu-rule"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using (var again = await _berth.SendAsync(HttpMethod.Delete, "cacheRules/ubuntu-rule"))
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
    }

    [Theory]
    [InlineData("docker.io/*", "library/x", HttpStatusCode.BadRequest)] // wildcard on one side only
    [InlineData("docker.io/library/*", "lib/*", HttpStatusCode.Conflict)] // overlaps the existing "*"
    [InlineData("ubuntu", "ubuntu2", HttpStatusCode.BadRequest)] // no registry host in the source
    [InlineData("docker.io/library/nginx", "Bad_Name", HttpStatusCode.BadRequest)] // not a repository name
    public async Task CacheRule_InvalidOrOverlapping_IsRefusedWithArmError(string source, string target, HttpStatusCode expected)
    {
        await _berth.CreateRuleAsync("everything", "mcr.microsoft.com/*", "*", null);
        using var response = await _berth.PutAsync("cacheRules/second-rule", new JsonObject
        {
            ["properties"] = new JsonObject { ["sourceRepository"] = source, ["targetRepository"] = target },
        });
        Assert.Equal(expected, response.StatusCode);
        Assert.NotNull((await JsonAsync(response))["error"]!["message"]);
    }

    [Fact]
    public async Task CacheRule_NameOutsideAcrsRules_IsRefused()
    {
        using var response = await _berth.PutAsync("cacheRules/abc", new JsonObject
        {
            ["properties"] = new JsonObject { ["sourceRepository"] = "docker.io/library/nginx", ["targetRepository"] = "nginx" },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task UnlistedLoopbackUpstream_IsRefusedByTheDestinationGuard()
    {
        await _berth.CreateRuleAsync("loopback-rule", "127.0.0.1:9/library/x", "guarded", null);
        using var response = await _berth.GetManifestAsync("guarded", "1");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("AllowHttpUpstreams", await response.Content.ReadAsStringAsync());
    }
}
