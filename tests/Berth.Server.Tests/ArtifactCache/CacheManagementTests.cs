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

    private static string ErrorMessage(string armErrorBody) => JsonNode.Parse(armErrorBody)!["error"]!["message"]!.GetValue<string>();

    /// <summary>Sends every request at once, each from a thread of its own, and returns the status and body of each.</summary>
    private static async Task<(HttpStatusCode Status, string Body)[]> RaceAsync(int requests, Func<int, Task<HttpResponseMessage>> send)
    {
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, requests).Select(i => Task.Factory.StartNew(async () =>
        {
            start.Wait();
            using var response = await send(i);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToArray();
        start.Set();
        return await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task ConcurrentPutsOfOverlappingWildcardRules_CreateOne_AndRefuseTheOthersWithConflict()
    {
        for (var round = 0; round < 3; round++)
        {
            // round0/*, round0/a/*, round0/a/a/* ...: every two overlap.
            var prefix = $"round{round}/";
            var outcomes = await RaceAsync(6, i => _berth.PutRuleAsync($"wildcard-{round}-{i}", $"docker.io/library{i}/*",
                prefix + string.Concat(Enumerable.Repeat("a/", i)) + "*", null));

            Assert.Single(outcomes, o => o.Status == HttpStatusCode.Created);
            Assert.All(outcomes.Where(o => o.Status != HttpStatusCode.Created), o =>
            {
                Assert.Equal(HttpStatusCode.Conflict, o.Status);
                Assert.Contains("wildcard rules may not overlap", ErrorMessage(o.Body));
            });
        }
        using var list = await _berth.SendAsync(HttpMethod.Get, "cacheRules");
        Assert.Equal(3, (await JsonAsync(list))["value"]!.AsArray().Count);
    }

    [Fact]
    public async Task ConcurrentRulePutsNamingCredentialSets_AndDeletesOfTheSets_NeverBothSucceed()
    {
        for (var round = 0; round < 5; round++)
        {
            // Four sets a round, each raced by a rule that names it and by its delete.
            var sets = Enumerable.Range(0, 4).Select(k => $"login-{round}-{k}").ToArray();
            foreach (var set in sets) await _berth.CreateCredentialSetAsync(set, "docker.io", "u", "p");
            var outcomes = await RaceAsync(2 * sets.Length, i => i % 2 == 0
                ? _berth.PutRuleAsync($"rule-{sets[i / 2]}", $"docker.io/library/{sets[i / 2]}", sets[i / 2], sets[i / 2])
                : _berth.SendAsync(HttpMethod.Delete, $"credentialSets/{sets[i / 2]}"));

            for (var k = 0; k < sets.Length; k++)
            {
                var (set, rule, delete) = (sets[k], outcomes[2 * k], outcomes[2 * k + 1]);
                // Either the rule came first and the delete found the set in use, or the delete came first and the rule found no set.
                if (rule.Status == HttpStatusCode.Created)
                {
                    Assert.Equal(HttpStatusCode.Conflict, delete.Status);
                    Assert.Contains($"is used by cache rule 'rule-{set}'", ErrorMessage(delete.Body));
                }
                else
                {
                    Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.OK), (rule.Status, delete.Status));
                    Assert.Contains($"The credential set '{set}' does not exist", ErrorMessage(rule.Body));
                }
                using var storedSet = await _berth.SendAsync(HttpMethod.Get, $"credentialSets/{set}");
                using var storedRule = await _berth.SendAsync(HttpMethod.Get, $"cacheRules/rule-{set}");
                Assert.Equal(storedRule.StatusCode, storedSet.StatusCode);
            }
        }
    }
}
