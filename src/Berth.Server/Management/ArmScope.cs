using System.Text.RegularExpressions;
using Berth.Server.Hosting;
using Berth.Server.Configuration;

namespace Berth.Server.Management;

/// <summary>
/// Subscriptions and resource groups. Berth has one subscription (<see cref="BerthOptions.DefaultSubscriptionId"/>);
/// resource groups are implicit: any valid name exists, and names match case-insensitively because az lower-cases
/// the group it parses out of a resource id.
/// </summary>
internal static partial class ArmScope
{
    [GeneratedRegex(@"^[-\w\._\(\)]{1,90}$", RegexOptions.CultureInvariant)]
    private static partial Regex ResourceGroupPattern();

    public static void EnsureSubscription(HttpContext context, string subscriptionId)
    {
        var options = context.RequestServices.GetRequiredService<BerthOptions>();
        if (!string.Equals(subscriptionId, options.DefaultSubscriptionId, StringComparison.OrdinalIgnoreCase))
            throw ArmException.NotFound($"The subscription '{subscriptionId}' could not be found.", "SubscriptionNotFound");
    }

    public static void EnsureResourceGroupName(string resourceGroup)
    {
        if (!ResourceGroupPattern().IsMatch(resourceGroup) || resourceGroup.EndsWith('.'))
            throw ArmException.InvalidParameter($"The resource group name '{resourceGroup}' is invalid: use 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'.");
    }

    /// <summary>The registry named in the path, which must sit in that subscription and resource group.</summary>
    public static async Task<Registry> FindRegistryAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        EnsureSubscription(context, subscriptionId);
        var registry = await context.RequestServices.GetRequiredService<RegistryDirectory>().GetOrNullAsync(name, context.RequestAborted);
        if (registry is null || !string.Equals(registry.ResourceGroup, resourceGroup, StringComparison.OrdinalIgnoreCase))
            throw ArmException.ResourceNotFound(ArmRegistry.Type, name, resourceGroup);
        return registry;
    }
}
