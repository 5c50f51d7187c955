using Berth.Server.Hosting;
using Berth.Server.Configuration;

namespace Berth.Server.Management;

/// <summary><c>/subscriptions</c> and resource groups: az lists subscriptions at sign-in and reads a group's location on create.</summary>
internal static class SubscriptionHandlers
{
    public static Task ListAsync(HttpContext context) =>
        ArmResults.WriteJsonAsync(context, new JsonObject
        {
            ["value"] = new JsonArray(Subscription(context)),
            ["count"] = new JsonObject { ["type"] = "Total", ["value"] = 1 },
        });

    public static Task GetAsync(HttpContext context, string subscriptionId)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        return ArmResults.WriteJsonAsync(context, Subscription(context));
    }

    public static async Task ListResourceGroupsAsync(HttpContext context, string subscriptionId)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        var options = context.RequestServices.GetRequiredService<BerthOptions>();
        var registries = await context.RequestServices.GetRequiredService<RegistryService>().ListAsync(context.RequestAborted);
        var groups = registries.Select(r => r.ResourceGroup).Prepend(options.DefaultResourceGroup)
            .DistinctBy(g => g.ToLowerInvariant()).OrderBy(g => g, StringComparer.OrdinalIgnoreCase);
        await ArmResults.WriteJsonAsync(context, ArmResults.List(groups.Select(g => (JsonNode)ResourceGroup(context, subscriptionId, g))));
    }

    /// <summary>Resource groups are implicit: every valid name exists (in the spelling a registry uses, if one does).</summary>
    public static async Task GetResourceGroupAsync(HttpContext context, string subscriptionId, string resourceGroup)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        ArmScope.EnsureResourceGroupName(resourceGroup);
        var registries = await context.RequestServices.GetRequiredService<RegistryService>().ListAsync(context.RequestAborted);
        var spelling = registries.Select(r => r.ResourceGroup).FirstOrDefault(g => string.Equals(g, resourceGroup, StringComparison.OrdinalIgnoreCase)) ?? resourceGroup;
        await ArmResults.WriteJsonAsync(context, ResourceGroup(context, subscriptionId, spelling));
    }

    /// <summary><c>az group create</c>: accepted and echoed, since groups need no storage of their own.</summary>
    public static async Task PutResourceGroupAsync(HttpContext context, string subscriptionId, string resourceGroup)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        ArmScope.EnsureResourceGroupName(resourceGroup);
        await ArmRequest.ReadObjectAsync(context, required: false);
        await ArmResults.WriteJsonAsync(context, ResourceGroup(context, subscriptionId, resourceGroup), StatusCodes.Status200OK);
    }

    private static JsonObject Subscription(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<BerthOptions>();
        var tenant = context.RequestServices.GetRequiredService<ManagementSignIn>().TenantId;
        return new JsonObject
        {
            ["id"] = $"/subscriptions/{options.DefaultSubscriptionId}",
            ["authorizationSource"] = "RoleBased",
            ["subscriptionId"] = options.DefaultSubscriptionId,
            ["tenantId"] = tenant,
            ["displayName"] = "Berth",
            ["state"] = "Enabled",
            ["subscriptionPolicies"] = new JsonObject
            {
                ["locationPlacementId"] = "Public_2014-09-01",
                ["quotaId"] = "Internal_2014-09-01",
                ["spendingLimit"] = "Off",
            },
        };
    }

    private static JsonObject ResourceGroup(HttpContext context, string subscriptionId, string name) => new()
    {
        ["id"] = $"/subscriptions/{subscriptionId}/resourceGroups/{name}",
        ["name"] = name,
        ["type"] = "Microsoft.Resources/resourceGroups",
        ["location"] = context.RequestServices.GetRequiredService<BerthOptions>().DefaultLocation,
        ["properties"] = new JsonObject { ["provisioningState"] = "Succeeded" },
    };
}
