using System.Net;
using System.Text.Json.Nodes;

namespace Berth.Server.Tests.Management;

/// <summary>
/// The retention and soft-delete policies on the management plane: stored and shown as ACR does, with ACR's rules
/// (retention on Premium only, 0-365 days; soft delete 1-90 days; not both enabled) answered with ARM error JSON, and
/// nothing changed by a refused request.
/// </summary>
public sealed class LifecyclePolicyTests(ManagementTestServer server) : IClassFixture<ManagementTestServer>
{
    private static JsonObject Policies(string policy, JsonObject setting) =>
        new() { ["properties"] = new JsonObject { ["policies"] = new JsonObject { [policy] = setting } } };

    [Fact]
    public async Task Retention_OnPremium_IsStoredAndShown_WithLastUpdatedTime_AndOtherPoliciesKeepTheirDefaults()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("keep");
        await client.CreateRegistryAsync(server, name, sku: "Premium");

        var (status, updated, _) = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name),
            Policies("retentionPolicy", new JsonObject { ["days"] = 30, ["status"] = "enabled" }));

        Assert.Equal(HttpStatusCode.OK, status);
        var retention = updated!["properties"]!["policies"]!["retentionPolicy"]!;
        Assert.Equal((30, "enabled"), (retention["days"]!.GetValue<int>(), retention["status"]!.GetValue<string>()));
        Assert.True(DateTimeOffset.TryParse(retention["lastUpdatedTime"]!.GetValue<string>(), out _));
        var shown = (await client.GetJsonAsync(server.RegistryPath(name)))["properties"]!["policies"]!;
        Assert.Equal(retention.ToJsonString(), shown["retentionPolicy"]!.ToJsonString());
        Assert.Equal((7, "disabled"), (shown["softDeletePolicy"]!["retentionDays"]!.GetValue<int>(), shown["softDeletePolicy"]!["status"]!.GetValue<string>()));
        Assert.Equal("disabled", shown["quarantinePolicy"]!["status"]!.GetValue<string>());

        // A status-only change keeps the days.
        var (_, disabled, _) = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), Policies("retentionPolicy", new JsonObject { ["status"] = "disabled" }));
        Assert.Equal(30, disabled!["properties"]!["policies"]!["retentionPolicy"]!["days"]!.GetValue<int>());
    }

    [Fact]
    public async Task Retention_BelowPremium_IsRefused_AndADowngradeWithRetentionOnToo()
    {
        using var client = await server.CreateManagementClientAsync();
        var standard = Arm.NewRegistryName("std");
        await client.CreateRegistryAsync(server, standard);
        var refused = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(standard), Policies("retentionPolicy", new JsonObject { ["status"] = "enabled" }));
        Assert.Equal("RetentionPolicyNotSupported", Arm.AssertArmError(HttpStatusCode.BadRequest, refused));
        Assert.Equal("disabled", (await client.GetJsonAsync(server.RegistryPath(standard)))["properties"]!["policies"]!["retentionPolicy"]!["status"]!.GetValue<string>());

        var premium = Arm.NewRegistryName("prem");
        await client.CreateRegistryAsync(server, premium, sku: "Premium");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Patch, server.RegistryPath(premium), Policies("retentionPolicy", new JsonObject { ["status"] = "enabled" }))).Status);
        var downgrade = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(premium), new JsonObject { ["sku"] = new JsonObject { ["name"] = "Standard" } });
        Assert.Equal("RetentionPolicyNotSupported", Arm.AssertArmError(HttpStatusCode.BadRequest, downgrade));
        Assert.Equal("Premium", (await client.GetJsonAsync(server.RegistryPath(premium)))["sku"]!["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("retentionPolicy", "days", "-1")]
    [InlineData("retentionPolicy", "days", "366")]
    [InlineData("retentionPolicy", "days", "\"7\"")]
    [InlineData("softDeletePolicy", "retentionDays", "0")]
    [InlineData("softDeletePolicy", "retentionDays", "91")]
    [InlineData("softDeletePolicy", "retentionDays", "1.5")]
    public async Task DaysOutOfRange_AreInvalidParameter(string policy, string property, string value)
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("days");
        await client.CreateRegistryAsync(server, name, sku: "Premium");

        var result = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), Policies(policy, new JsonObject { [property] = JsonNode.Parse(value) }));

        Assert.Equal("InvalidParameter", Arm.AssertArmError(HttpStatusCode.BadRequest, result));
        Assert.Contains($"{policy}.{property}", result.Body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task SoftDeleteAndRetention_CannotBothBeEnabled_EitherWay()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("both");
        await client.CreateRegistryAsync(server, name, sku: "Premium");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name),
            Policies("softDeletePolicy", new JsonObject { ["retentionDays"] = 14, ["status"] = "enabled" }))).Status);

        var retention = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), Policies("retentionPolicy", new JsonObject { ["status"] = "enabled" }));
        Assert.Equal("PolicyConflict", Arm.AssertArmError(HttpStatusCode.BadRequest, retention));
        Assert.Equal("disabled", (await client.GetJsonAsync(server.RegistryPath(name)))["properties"]!["policies"]!["retentionPolicy"]!["status"]!.GetValue<string>());

        // Switching one off and the other on in one request is fine.
        var body = new JsonObject
        {
            ["properties"] = new JsonObject
            {
                ["policies"] = new JsonObject
                {
                    ["softDeletePolicy"] = new JsonObject { ["status"] = "disabled" },
                    ["retentionPolicy"] = new JsonObject { ["status"] = "enabled", ["days"] = 1 },
                },
            },
        };
        var (status, swapped, _) = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), body);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(("disabled", 14), (swapped!["properties"]!["policies"]!["softDeletePolicy"]!["status"]!.GetValue<string>(),
            swapped["properties"]!["policies"]!["softDeletePolicy"]!["retentionDays"]!.GetValue<int>()));

        var softDelete = await client.SendAsync(HttpMethod.Patch, server.RegistryPath(name), Policies("softDeletePolicy", new JsonObject { ["status"] = "enabled" }));
        Assert.Equal("PolicyConflict", Arm.AssertArmError(HttpStatusCode.BadRequest, softDelete));
    }
}
