using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.Core.Registries;
using Berth.Core.Storage;

namespace Berth.Server.Tests.Management;

public sealed class RegistryTests(ManagementTestServer server) : IClassFixture<ManagementTestServer>
{
    private const string BasicTierMessage = "Anonymous pull is not supported for SKU Managed_Basic. For more information on SKU tiers, please visit https://aka.ms/acr/tiers.";

    [Fact]
    public async Task Get_DefaultRegistry_HasTheWireShapeAzReads()
    {
        using var client = await server.CreateManagementClientAsync();
        var registry = await client.GetJsonAsync(server.RegistryPath(server.RegistryName));
        var owner = server.ReadOwnerCredential();
        Assert.Equal($"/subscriptions/{owner.SubscriptionId}/resourceGroups/{owner.ResourceGroup}/providers/Microsoft.ContainerRegistry/registries/{server.RegistryName}", registry["id"]!.GetValue<string>());
        Assert.Equal(server.RegistryName, registry["name"]!.GetValue<string>());
        Assert.Equal("Microsoft.ContainerRegistry/registries", registry["type"]!.GetValue<string>());
        Assert.Equal("local", registry["location"]!.GetValue<string>());
        Assert.Equal("Standard", registry["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("Standard", registry["sku"]!["tier"]!.GetValue<string>());
        Assert.NotNull(registry["tags"] as JsonObject);
        Assert.NotNull(registry["systemData"]!["createdAt"]);
        var properties = registry["properties"]!;
        Assert.Equal(server.LoginServer, properties["loginServer"]!.GetValue<string>());
        Assert.Equal("Succeeded", properties["provisioningState"]!.GetValue<string>());
        Assert.True(DateTimeOffset.TryParse(properties["creationDate"]!.GetValue<string>(), out _));
        Assert.True(properties["adminUserEnabled"]!.GetValue<bool>());
        Assert.False(properties["anonymousPullEnabled"]!.GetValue<bool>());
        Assert.Equal("Enabled", properties["publicNetworkAccess"]!.GetValue<string>());
        Assert.Equal("AzureServices", properties["networkRuleBypassOptions"]!.GetValue<string>());
        Assert.Equal("Disabled", properties["zoneRedundancy"]!.GetValue<string>());
        Assert.False(properties["dataEndpointEnabled"]!.GetValue<bool>());
        Assert.Equal("disabled", properties["encryption"]!["status"]!.GetValue<string>());
        Assert.Equal("enabled", properties["policies"]!["azureADAuthenticationAsArmPolicy"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Paths_AreCaseInsensitive_AndResourceGroupsMatchInAnyCase()
    {
        using var client = await server.CreateManagementClientAsync();
        var owner = server.ReadOwnerCredential();
        var path = $"/SUBSCRIPTIONS/{owner.SubscriptionId}/resourcegroups/{owner.ResourceGroup.ToUpperInvariant()}/providers/microsoft.containerregistry/REGISTRIES/{server.RegistryName.ToUpperInvariant()}";
        var registry = await client.GetJsonAsync(path + "?api-version=2099-01-01-whatever");
        Assert.Equal(server.RegistryName, registry["name"]!.GetValue<string>());
        var group = await client.GetJsonAsync($"/subscriptions/{owner.SubscriptionId}/resourcegroups/{owner.ResourceGroup.ToUpperInvariant()}?api-version=2021-04-01");
        Assert.Equal(owner.ResourceGroup, group["name"]!.GetValue<string>());
        var implicitGroup = await client.GetJsonAsync($"/subscriptions/{owner.SubscriptionId}/resourcegroups/AnyGroupAtAll?api-version=2021-04-01");
        Assert.Equal("local", implicitGroup["location"]!.GetValue<string>());
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, server.RegistryPath(server.RegistryName, "othergroup")));
    }

    [Fact]
    public async Task Lists_BySubscriptionResourceGroupAndGenericResourceFilter()
    {
        using var client = await server.CreateManagementClientAsync();
        var owner = server.ReadOwnerCredential();
        var name = Arm.NewRegistryName("list");
        await client.CreateRegistryAsync(server, name, resourceGroup: "MyRG");

        var all = (await client.GetJsonAsync($"/subscriptions/{owner.SubscriptionId}/providers/Microsoft.ContainerRegistry/registries"))["value"]!.AsArray();
        Assert.Contains(all, r => r!["name"]!.GetValue<string>() == name);
        Assert.Contains(all, r => r!["name"]!.GetValue<string>() == server.RegistryName);
        var inGroup = (await client.GetJsonAsync($"/subscriptions/{owner.SubscriptionId}/resourceGroups/myrg/providers/Microsoft.ContainerRegistry/registries"))["value"]!.AsArray();
        Assert.Equal([name], inGroup.Select(r => r!["name"]!.GetValue<string>()));

        var filter = Uri.EscapeDataString("resourceType eq 'Microsoft.ContainerRegistry/registries'");
        var resources = (await client.GetJsonAsync($"/subscriptions/{owner.SubscriptionId}/resources?$filter={filter}&api-version=2021-04-01"))["value"]!.AsArray();
        var entry = resources.Single(r => r!["name"]!.GetValue<string>() == name)!;
        Assert.EndsWith($"/resourceGroups/MyRG/providers/Microsoft.ContainerRegistry/registries/{name}", entry["id"]!.GetValue<string>());
        var otherType = Uri.EscapeDataString("resourceType eq 'Microsoft.Storage/storageAccounts'");
        Assert.Empty((await client.GetJsonAsync($"/subscriptions/{owner.SubscriptionId}/resources?$filter={otherType}&api-version=2021-04-01"))["value"]!.AsArray());
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Get, $"/subscriptions/{owner.SubscriptionId}/resources?$filter=substringof(x)&api-version=2021-04-01"));
    }

    [Fact]
    public async Task Patch_OnlyAnonymousPull_ChangesOnlyThat_AndIsLogged()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("anon");
        var before = await client.CreateRegistryAsync(server, name, adminUserEnabled: true);

        var (status, after, _) = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), new { properties = new { anonymousPullEnabled = true } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(after!["properties"]!["anonymousPullEnabled"]!.GetValue<bool>());
        Assert.True(after["properties"]!["adminUserEnabled"]!.GetValue<bool>());
        Assert.Equal("Standard", after["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("Succeeded", after["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal(before["properties"]!["loginServer"]!.GetValue<string>(), after["properties"]!["loginServer"]!.GetValue<string>());
        Assert.True((await server.Registries.GetAsync(name, CancellationToken.None)).AnonymousPullEnabled);

        (status, _, _) = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), new { properties = new { anonymousPullEnabled = false } });
        Assert.Equal(HttpStatusCode.OK, status);
        var shown = await client.GetJsonAsync(server.RegistryPath(name));
        Assert.False(shown["properties"]!["anonymousPullEnabled"]!.GetValue<bool>());

        var log = (await client.GetJsonAsync(server.RegistryPath(name) + "/activityLog"))["value"]!.AsArray();
        Assert.Equal(2, log.Count);
        Assert.Equal(("anonymousPullEnabled", "true", "false"), (log[0]!["setting"]!.GetValue<string>(), log[0]!["oldValue"]!.GetValue<string>(), log[0]!["newValue"]!.GetValue<string>()));
        Assert.Equal(("false", "true"), (log[1]!["oldValue"]!.GetValue<string>(), log[1]!["newValue"]!.GetValue<string>()));
        Assert.Contains(server.ReadOwnerCredential().ClientId, log[0]!["actor"]!.GetValue<string>());
        Assert.True(DateTimeOffset.TryParse(log[0]!["timestamp"]!.GetValue<string>(), out _));
    }

    [Theory]
    [InlineData("quarantinePolicy", "enabled")]
    [InlineData("trustPolicy", "enabled")]
    [InlineData("azureADAuthenticationAsArmPolicy", "disabled")]
    public async Task Patch_PolicyBerthDoesNotEnforce_IsRefused_AndTheShownPoliciesStay(string policy, string status)
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("policy");
        var created = await client.CreateRegistryAsync(server, name, sku: "Premium");
        var shown = created["properties"]!["policies"]!.ToJsonString();

        var result = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name),
            new JsonObject { ["properties"] = new JsonObject { ["policies"] = new JsonObject { [policy] = new JsonObject { ["status"] = status } } } });

        Assert.Equal("FeatureNotSupported", Arm.AssertArmError(HttpStatusCode.BadRequest, result));
        Assert.Contains($"'{policy}'", result.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(shown, (await client.GetJsonAsync(server.RegistryPath(name)))["properties"]!["policies"]!.ToJsonString());
    }

    [Fact]
    public async Task Patch_ShownPoliciesSentBack_AndExportPolicyDisabled_AreAccepted()
    {
        // az's generic update sends back what it read; that must pass, and the export policy (no export pipelines
        // here either way) may be switched.
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("policy");
        var created = await client.CreateRegistryAsync(server, name);
        var policies = created["properties"]!["policies"]!.DeepClone().AsObject();
        policies["exportPolicy"] = new JsonObject { ["status"] = "disabled" };

        var (status, after, _) = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), new JsonObject { ["properties"] = new JsonObject { ["policies"] = policies } });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("disabled", after!["properties"]!["policies"]!["exportPolicy"]!["status"]!.GetValue<string>());
        Assert.Equal("disabled", after["properties"]!["policies"]!["retentionPolicy"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Patch_AnonymousPullOnBasic_IsRefusedWithAcrsMessage_AndNothingChanges()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("basic");
        await client.CreateRegistryAsync(server, name, sku: "Basic");
        var result = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), new { properties = new { anonymousPullEnabled = true } });
        Assert.Equal("BadRequest", Arm.AssertArmError(HttpStatusCode.BadRequest, result));
        Assert.Equal(BasicTierMessage, result.Body!["error"]!["message"]!.GetValue<string>());
        Assert.False((await server.Registries.GetAsync(name, CancellationToken.None)).AnonymousPullEnabled);
        Assert.Empty((await client.GetJsonAsync(server.RegistryPath(name) + "/activityLog"))["value"]!.AsArray());

        // Creating a Basic registry with it on is refused the same way, and creates nothing.
        var other = Arm.NewRegistryName("basic");
        var create = await client.SendAsync(HttpMethod.Put, server.RegistryPath(other), new { location = "local", sku = new { name = "Basic" }, properties = new { anonymousPullEnabled = true } });
        Assert.Equal(BasicTierMessage, create.Body!["error"]!["message"]!.GetValue<string>());
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, server.RegistryPath(other)));
    }

    [Fact]
    public async Task Patch_DowngradeToBasicWhileAnonymousPullIsOn_IsRefused_ThenAllowedAfterTurningItOff()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("down");
        await client.CreateRegistryAsync(server, name, sku: "Premium");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), new { properties = new { anonymousPullEnabled = true } })).Status);

        var refused = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), new { sku = new { name = "Basic" } });
        Arm.AssertArmError(HttpStatusCode.BadRequest, refused);
        Assert.Contains("Disable anonymous pull first", refused.Body!["error"]!["message"]!.GetValue<string>());
        Assert.Equal(RegistrySku.Premium, (await server.Registries.GetAsync(name, CancellationToken.None)).Sku);

        var (status, body, _) = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), new { sku = new { name = "Basic" }, properties = new { anonymousPullEnabled = false } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Basic", body!["sku"]!["tier"]!.GetValue<string>());
        var settings = (await client.GetJsonAsync(server.RegistryPath(name) + "/activityLog?$top=10"))["value"]!.AsArray().Select(e => e!["setting"]!.GetValue<string>()).ToList();
        Assert.Contains("sku", settings);
    }

    [Fact]
    public async Task Patch_EnablingAnonymousPullWithTokens_WarnsInAHeader_AndKeepsJsonValid()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("warn");
        await client.CreateRegistryAsync(server, name);
        var path = server.RegistryPath(name);
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(HttpMethod.Put, path + "/tokens/puller", new { properties = new { scopeMapId = path + "/scopeMaps/_repositories_pull", status = "enabled" } })).Status);

        var (status, body, response) = await client.SendAsync(HttpMethod.Patch, path, new { properties = new { anonymousPullEnabled = true } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body!["properties"]!["anonymousPullEnabled"]!.GetValue<bool>());
        var warning = Assert.Single(response.Headers.GetValues("x-ms-berth-warning"));
        Assert.Contains("token", warning);
    }

    [Fact]
    public async Task Create_MakesTheDataPlaneLive_Delete_RemovesContentAndIdentities()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("life");
        var created = await client.CreateRegistryAsync(server, name, adminUserEnabled: true);
        var loginServer = created["properties"]!["loginServer"]!.GetValue<string>();
        Assert.Equal($"{name}.acr.localhost", loginServer);

        var (status, credentials, _) = await client.SendAsync(HttpMethod.Post, server.RegistryPath(name) + "/listCredentials");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(name, credentials!["username"]!.GetValue<string>());
        var password = credentials["passwords"]![0]!["value"]!.GetValue<string>();
        var admin = BerthTestServer.BasicAuthorization(name, password);

        using var data = server.CreateClient();
        Assert.Equal(HttpStatusCode.Created, await Arm.PushSmallImageAsync(data, loginServer, admin, "hello/world", "v1"));
        Assert.Equal(HttpStatusCode.OK, await Arm.GetManifestStatusAsync(data, loginServer, admin, "hello/world", "v1"));
        // Content is per registry: the default registry does not have it.
        Assert.Equal(HttpStatusCode.NotFound, await Arm.GetManifestStatusAsync(data, server.LoginServer,
            BerthTestServer.BasicAuthorization(server.AdminUsername, server.AdminPassword), "hello/world", "v1"));

        var (deleteStatus, _, _) = await client.SendAsync(HttpMethod.Delete, server.RegistryPath(name));
        Assert.Equal(HttpStatusCode.OK, deleteStatus);
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, server.RegistryPath(name)));
        Assert.Equal(HttpStatusCode.Unauthorized, await Arm.GetManifestStatusAsync(data, loginServer, admin, "hello/world", "v1"));
        Assert.Null(await server.Identities.GetAdminCredentialsOrNullAsync(name, CancellationToken.None));
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(HttpMethod.Delete, server.RegistryPath(name))).Status);

        // Re-created under the same name, it starts empty.
        await client.CreateRegistryAsync(server, name, adminUserEnabled: true);
        var (_, fresh, _) = await client.SendAsync(HttpMethod.Post, server.RegistryPath(name) + "/listCredentials");
        var freshAdmin = BerthTestServer.BasicAuthorization(name, fresh!["passwords"]![0]!["value"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, await Arm.GetManifestStatusAsync(data, loginServer, freshAdmin, "hello/world", "v1"));
    }

    [Fact]
    public async Task Delete_DefaultRegistry_IsRefused()
    {
        using var client = await server.CreateManagementClientAsync();
        Arm.AssertArmError(HttpStatusCode.Conflict, await client.SendAsync(HttpMethod.Delete, server.RegistryPath(server.RegistryName)));
        Assert.NotNull(await server.Registries.GetAsync(server.RegistryName, CancellationToken.None));
    }

    [Theory]
    [InlineData("abcd")]
    [InlineData("has-dash")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task Create_InvalidName_Returns400AndCreatesNothing(string name)
    {
        using var client = await server.CreateManagementClientAsync();
        var result = await client.SendAsync(HttpMethod.Put, server.RegistryPath(name), new { location = "local", sku = new { name = "Standard" } });
        Arm.AssertArmError(HttpStatusCode.BadRequest, result);
        Assert.DoesNotContain(await server.Registries.ListAsync(CancellationToken.None), r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Create_TakenNameInAnotherGroup_Conflicts_SameGroupUpdates()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("dup");
        await client.CreateRegistryAsync(server, name);
        Assert.Equal("AlreadyInUse", Arm.AssertArmError(HttpStatusCode.Conflict,
            await client.SendAsync(HttpMethod.Put, server.RegistryPath(name.ToUpperInvariant(), "othergroup"), new { location = "local", sku = new { name = "Standard" } })));
        var (status, body, _) = await client.SendAsync(HttpMethod.Put, server.RegistryPath(name), new { location = "local", sku = new { name = "Premium" }, tags = new { team = "a" } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Premium", body!["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("a", body["tags"]!["team"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{\"properties\": {\"anonymousPullEnabled\": tru")]
    [InlineData("[1,2,3]")]
    [InlineData("")]
    [InlineData("{\"properties\": {\"anonymousPullEnabled\": \"yes\"}}")]
    [InlineData("{\"sku\": {\"name\": \"Gold\"}, \"properties\": {\"anonymousPullEnabled\": true}}")]
    [InlineData("{\"properties\": {\"publicNetworkAccess\": \"Sometimes\", \"anonymousPullEnabled\": true}}")]
    [InlineData("{\"properties\": {\"zoneRedundancy\": \"Enabled\", \"anonymousPullEnabled\": true}}")]
    [InlineData("{\"tags\": {\"a\": 1}, \"properties\": {\"anonymousPullEnabled\": true}}")]
    public async Task Patch_BadBody_Returns400AndNothingChanges(string body)
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("bad");
        await client.CreateRegistryAsync(server, name);
        var before = await server.Registries.GetAsync(name, CancellationToken.None);
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), rawBody: body));
        var after = await server.Registries.GetAsync(name, CancellationToken.None);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task UnknownRegistry_Returns404OnEveryOperation()
    {
        using var client = await server.CreateManagementClientAsync();
        var path = server.RegistryPath("nosuchregistry1");
        Assert.Equal("ResourceNotFound", Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, path)));
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Patch, path, new { properties = new { anonymousPullEnabled = true } }));
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Post, path + "/listCredentials"));
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, path + "/tokens"));
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, path + "/activityLog"));
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, path + "/no/such/child"));
    }

    [Fact]
    public async Task Credentials_ListAndRegenerate_AndAdminToggle()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("cred");
        await client.CreateRegistryAsync(server, name);
        Assert.Equal("AdminUserDisabled", Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Post, server.RegistryPath(name) + "/listCredentials")));

        var (status, body, _) = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), new { properties = new { adminUserEnabled = true } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body!["properties"]!["adminUserEnabled"]!.GetValue<bool>());
        var (_, listed, _) = await client.SendAsync(HttpMethod.Post, server.RegistryPath(name) + "/listCredentials");
        Assert.Equal(["password", "password2"], listed!["passwords"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));

        var (regenStatus, regenerated, _) = await client.SendAsync(HttpMethod.Post, server.RegistryPath(name) + "/regenerateCredential", new { name = "password2" });
        Assert.Equal(HttpStatusCode.OK, regenStatus);
        Assert.Equal(listed["passwords"]![0]!["value"]!.GetValue<string>(), regenerated!["passwords"]![0]!["value"]!.GetValue<string>());
        Assert.NotEqual(listed["passwords"]![1]!["value"]!.GetValue<string>(), regenerated["passwords"]![1]!["value"]!.GetValue<string>());
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Post, server.RegistryPath(name) + "/regenerateCredential", new { name = "password1" }));
    }

    [Fact]
    public async Task CheckNameAvailability_ReportsTakenInvalidAndFree()
    {
        using var client = await server.CreateManagementClientAsync();
        var path = $"/subscriptions/{server.ReadOwnerCredential().SubscriptionId}/providers/Microsoft.ContainerRegistry/checkNameAvailability";
        var (_, taken, _) = await client.SendAsync(HttpMethod.Post, path, new { name = server.RegistryName.ToUpperInvariant(), type = "Microsoft.ContainerRegistry/registries" });
        Assert.False(taken!["nameAvailable"]!.GetValue<bool>());
        Assert.Equal("AlreadyExists", taken["reason"]!.GetValue<string>());
        var (_, invalid, _) = await client.SendAsync(HttpMethod.Post, path, new { name = "a-b", type = "Microsoft.ContainerRegistry/registries" });
        Assert.Equal("Invalid", invalid!["reason"]!.GetValue<string>());
        var (_, free, _) = await client.SendAsync(HttpMethod.Post, path, new { name = Arm.NewRegistryName("free"), type = "Microsoft.ContainerRegistry/registries" });
        Assert.True(free!["nameAvailable"]!.GetValue<bool>());
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Post, path, new { name = "abcdef", type = "Microsoft.Storage/storageAccounts" }));
    }

    [Fact]
    public async Task ListUsages_ReportsTierLimits()
    {
        using var client = await server.CreateManagementClientAsync();
        var usages = (await client.GetJsonAsync(server.RegistryPath(server.RegistryName) + "/listUsages"))["value"]!.AsArray();
        var size = usages.Single(u => u!["name"]!.GetValue<string>() == "Size")!;
        Assert.Equal(100L << 30, size["limit"]!.GetValue<long>());
        Assert.Equal("Bytes", size["unit"]!.GetValue<string>());
        Assert.Equal(10, usages.Single(u => u!["name"]!.GetValue<string>() == "Webhooks")!["limit"]!.GetValue<long>());
    }

    [Fact]
    public async Task ListUsages_SizeCountsEachBlobAndManifestOnce()
    {
        using var client = await server.CreateManagementClientAsync();
        async Task<long> SizeAsync() => (await client.GetJsonAsync(server.RegistryPath(server.RegistryName) + "/listUsages"))["value"]!.AsArray()
            .Single(u => u!["name"]!.GetValue<string>() == "Size")!["currentValue"]!.GetValue<long>();
        var before = await SizeAsync();
        var image = new TestImage(payloadSize: 100_000);

        await server.Client.PushImageAsync("usage/first", image, "v1");
        var afterOne = await SizeAsync();
        await server.Client.PushImageAsync("usage/second", image, "v1"); // the same bytes again, in another repository

        Assert.Equal(before + image.Layer.Length + image.Config.Length + image.Manifest.Length, afterOne);
        Assert.Equal(afterOne, await SizeAsync());
    }
}
