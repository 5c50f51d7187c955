using System.Net;
using System.Net.Http.Headers;
using Berth.Core.Registries;
using Berth.Core.Storage;

namespace Berth.Server.Tests.Management;

public sealed class IdentityTests(ManagementTestServer server) : IClassFixture<ManagementTestServer>
{
    private static readonly string[] SystemMaps =
        ["_repositories_admin", "_repositories_pull", "_repositories_pull_metadata_read", "_repositories_push", "_repositories_push_metadata_write"];

    [Fact]
    public async Task ScopeMaps_Crud_WithSystemMapsListed()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("maps");
        await client.CreateRegistryAsync(server, name);
        var maps = server.RegistryPath(name) + "/scopeMaps";

        Assert.Equal("ResourceNotFound", Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, maps + "/tok2-scope-map")));
        var (status, created, _) = await client.SendAsync(HttpMethod.Put, maps + "/myscope",
            new { properties = new { description = "hello", actions = new[] { "repositories/hello-world/content/read", "repositories/hello-world/content/write" } } });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal($"{server.RegistryPath(name)}/scopeMaps/myscope", created!["id"]!.GetValue<string>());
        Assert.Equal("Microsoft.ContainerRegistry/registries/scopeMaps", created["type"]!.GetValue<string>());
        Assert.Equal("UserDefined", created["properties"]!["type"]!.GetValue<string>());
        Assert.Equal("Succeeded", created["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal(2, created["properties"]!["actions"]!.AsArray().Count);

        var (patchStatus, patched, _) = await client.SendAsync(HttpMethod.Patch, maps + "/myscope", new { properties = new { actions = new[] { "repositories/other/metadata/read" } } });
        Assert.Equal(HttpStatusCode.OK, patchStatus);
        Assert.Equal(["repositories/other/metadata/read"], patched!["properties"]!["actions"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal("hello", patched["properties"]!["description"]!.GetValue<string>());

        var listed = (await client.GetJsonAsync(maps))["value"]!.AsArray();
        foreach (var system in SystemMaps)
            Assert.Equal("SystemDefined", listed.Single(m => m!["name"]!.GetValue<string>() == system)!["properties"]!["type"]!.GetValue<string>());
        Assert.Contains(listed, m => m!["name"]!.GetValue<string>() == "myscope");

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Delete, maps + "/myscope")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(HttpMethod.Delete, maps + "/myscope")).Status);
    }

    [Theory]
    [InlineData("tokens")]
    [InlineData("scopeMaps")]
    public async Task MissingChild_NotFoundNamesItInArmOrder(string collection)
    {
        using var client = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName) + $"/{collection}/nosuchitem";
        var result = await client.SendAsync(HttpMethod.Get, path);
        Assert.Equal("ResourceNotFound", Arm.AssertArmError(HttpStatusCode.NotFound, result));
        var message = result.Body!["error"]!["message"]!.GetValue<string>();
        Assert.StartsWith($"The Resource 'Microsoft.ContainerRegistry/registries/{server.RegistryName}/{collection}/nosuchitem' under resource group ", message);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task SystemScopeMaps_CannotBeChangedOrDeleted(string method)
    {
        using var client = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName) + "/scopeMaps/_repositories_pull";
        var result = await client.SendAsync(new HttpMethod(method), path, method == "DELETE" ? null : new { properties = new { actions = new[] { "repositories/*/content/write" } } });
        Arm.AssertArmError(HttpStatusCode.BadRequest, result);
        var map = await client.GetJsonAsync(path);
        Assert.Equal(["repositories/*/content/read"], map["properties"]!["actions"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal("SystemDefined", map["properties"]!["type"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{\"properties\": {\"actions\": [\"repositories/x/content/fly\"]}}")]
    [InlineData("{\"properties\": {\"actions\": []}}")]
    [InlineData("{\"properties\": {}}")]
    [InlineData("{\"properties\": {\"actions\": [1]}}")]
    [InlineData("{not json")]
    public async Task ScopeMap_BadBody_Returns400AndCreatesNothing(string body)
    {
        using var client = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName) + "/scopeMaps/badmap" + Guid.NewGuid().ToString("N")[..6];
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Put, path, rawBody: body));
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, path));
    }

    [Fact]
    public async Task Tokens_CreateGenerateUseAndDeletePasswords()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("toks");
        var registry = await client.CreateRegistryAsync(server, name);
        var loginServer = registry["properties"]!["loginServer"]!.GetValue<string>();
        var path = server.RegistryPath(name);
        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(HttpMethod.Put, path + "/scopeMaps/pushers",
            new { properties = new { actions = new[] { "repositories/app/content/read", "repositories/app/content/write" } } })).Status);

        // az lower-cases the resource group inside ids it builds; that must still resolve.
        var scopeMapId = (path + "/scopeMaps/pushers").Replace("/resourceGroups/berth/", "/resourceGroups/BERTH/");
        var (status, token, _) = await client.SendAsync(HttpMethod.Put, path + "/tokens/mytoken", new { properties = new { scopeMapId, status = "enabled" } });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("Microsoft.ContainerRegistry/registries/tokens", token!["type"]!.GetValue<string>());
        Assert.Equal(path + "/scopeMaps/pushers", token["properties"]!["scopeMapId"]!.GetValue<string>());
        Assert.Equal("enabled", token["properties"]!["status"]!.GetValue<string>());
        Assert.Empty(token["properties"]!["credentials"]!["passwords"]!.AsArray());

        var (genStatus, generated, _) = await client.SendAsync(HttpMethod.Post, path + "/generateCredentials", new { tokenId = path + "/tokens/mytoken" });
        Assert.Equal(HttpStatusCode.OK, genStatus);
        Assert.Equal("mytoken", generated!["username"]!.GetValue<string>());
        var passwords = generated["passwords"]!.AsArray();
        Assert.Equal(["password1", "password2"], passwords.Select(p => p!["name"]!.GetValue<string>()));
        var password1 = passwords[0]!["value"]!.GetValue<string>();
        var password2 = passwords[1]!["value"]!.GetValue<string>();

        // Values never come back on GET.
        var shown = await client.GetJsonAsync(path + "/tokens/mytoken");
        Assert.Equal(2, shown["properties"]!["credentials"]!["passwords"]!.AsArray().Count);
        Assert.DoesNotContain(password1, shown.ToJsonString());

        using var data = server.CreateClient();
        Assert.Equal(HttpStatusCode.Created, await Arm.PushSmallImageAsync(data, loginServer, BerthTestServer.BasicAuthorization("mytoken", password1), "app", "v1"));

        // Delete password1 the way az does: PATCH the names to keep.
        var (patchStatus, patched, _) = await client.SendAsync(HttpMethod.Patch, path + "/tokens/mytoken",
            new { properties = new { credentials = new { passwords = new[] { new { name = "password2" } } } } });
        Assert.True(patchStatus == HttpStatusCode.OK, patched?.ToJsonString());
        Assert.Equal(["password2"], patched!["properties"]!["credentials"]!["passwords"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Unauthorized, await Arm.GetManifestStatusAsync(data, loginServer, BerthTestServer.BasicAuthorization("mytoken", password1), "app", "v1"));
        Assert.Equal(HttpStatusCode.OK, await Arm.GetManifestStatusAsync(data, loginServer, BerthTestServer.BasicAuthorization("mytoken", password2), "app", "v1"));

        // One password with an expiry.
        var expiry = DateTimeOffset.UtcNow.AddDays(3);
        var (_, one, _) = await client.SendAsync(HttpMethod.Post, path + "/generateCredentials", new { tokenId = path + "/tokens/mytoken", name = "password1", expiry = expiry.ToString("O") });
        var only = Assert.Single(one!["passwords"]!.AsArray());
        Assert.Equal("password1", only!["name"]!.GetValue<string>());
        Assert.Equal(expiry.ToUnixTimeSeconds(), DateTimeOffset.Parse(only["expiry"]!.GetValue<string>()).ToUnixTimeSeconds());

        // Disable, then delete.
        var (_, disabled, _) = await client.SendAsync(HttpMethod.Patch, path + "/tokens/mytoken", new { properties = new { status = "disabled" } });
        Assert.Equal("disabled", disabled!["properties"]!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, await Arm.GetManifestStatusAsync(data, loginServer, BerthTestServer.BasicAuthorization("mytoken", password2), "app", "v1"));
        Assert.Single((await client.GetJsonAsync(path + "/tokens"))["value"]!.AsArray());
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Delete, path + "/tokens/mytoken")).Status);
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, path + "/tokens/mytoken"));
    }

    [Fact]
    public async Task Tokens_BadInput_GetArmErrors_AndNothingChanges()
    {
        using var client = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName);
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Put, path + "/tokens/no", new { properties = new { scopeMapId = path + "/scopeMaps/_repositories_pull" } }));
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Put, path + "/tokens/missingmap", new { properties = new { scopeMapId = path + "/scopeMaps/doesnotexist" } }));
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Put, path + "/tokens/othermap", new { properties = new { scopeMapId = "/subscriptions/x/resourceGroups/y/providers/Microsoft.ContainerRegistry/registries/other/scopeMaps/_repositories_pull" } }));
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Put, path + "/tokens/badstatus", new { properties = new { scopeMapId = path + "/scopeMaps/_repositories_pull", status = "maybe" } }));
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Put, path + "/tokens/badjson", rawBody: "{\"properties\":"));
        foreach (var name in new[] { "no", "missingmap", "othermap", "badstatus", "badjson" })
            Assert.Null(await server.Identities.GetTokenOrNullAsync(server.RegistryName, name, CancellationToken.None));

        Assert.Equal(HttpStatusCode.Created, (await client.SendAsync(HttpMethod.Put, path + "/tokens/keeper", new { properties = new { scopeMapId = path + "/scopeMaps/_repositories_pull" } })).Status);
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Post, path + "/generateCredentials", new { tokenId = path + "/tokens/keeper", name = "password3" }));
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Post, path + "/generateCredentials", new { tokenId = path + "/tokens/keeper", expiry = "2001-01-01T00:00:00Z" }));
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Post, path + "/generateCredentials", new { tokenId = path + "/tokens/nosuchtoken" }));
        Arm.AssertArmError(HttpStatusCode.BadRequest, await client.SendAsync(HttpMethod.Patch, path + "/tokens/keeper", new { properties = new { credentials = new { passwords = new[] { new { name = "password9" } } } } }));
        Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Patch, path + "/tokens/nosuchtoken", new { properties = new { status = "disabled" } }));
        Assert.Empty((await server.Identities.GetTokenOrNullAsync(server.RegistryName, "keeper", CancellationToken.None))!.Passwords);
    }

    [Fact]
    public async Task ScopeMapInUse_CannotBeDeleted()
    {
        using var client = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName);
        await client.SendAsync(HttpMethod.Put, path + "/scopeMaps/usedmap", new { properties = new { actions = new[] { "repositories/x/content/read" } } });
        await client.SendAsync(HttpMethod.Put, path + "/tokens/usedtoken", new { properties = new { scopeMapId = path + "/scopeMaps/usedmap" } });
        Arm.AssertArmError(HttpStatusCode.Conflict, await client.SendAsync(HttpMethod.Delete, path + "/scopeMaps/usedmap"));
        Assert.NotNull(await server.Identities.GetScopeMapOrNullAsync(server.RegistryName, "usedmap", CancellationToken.None));
    }

    [Fact]
    public async Task ScopeMapQuota_OnBasic_IsEnforced()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("quota");
        await client.CreateRegistryAsync(server, name, sku: "Basic");
        for (var i = 0; i < 100; i++)
            await server.Identities.PutScopeMapAsync(name, RegistrySku.Basic, $"map{i:D3}", null, ["repositories/x/content/read"], CancellationToken.None);
        var result = await client.SendAsync(HttpMethod.Put, server.RegistryPath(name) + "/scopeMaps/onetoomany", new { properties = new { actions = new[] { "repositories/x/content/read" } } });
        Assert.Equal("QuotaExceeded", Arm.AssertArmError(HttpStatusCode.Conflict, result));
        Assert.Null(await server.Identities.GetScopeMapOrNullAsync(name, "onetoomany", CancellationToken.None));
        var usages = (await client.GetJsonAsync(server.RegistryPath(name) + "/listUsages"))["value"]!.AsArray();
        var scopeMaps = usages.Single(u => u!["name"]!.GetValue<string>() == "ScopeMaps")!;
        Assert.Equal((100, 100), (scopeMaps["currentValue"]!.GetValue<long>(), scopeMaps["limit"]!.GetValue<long>()));
    }
}
