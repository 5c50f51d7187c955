using System.Text.Json.Serialization;
using Berth.Core.Maintenance;
using Berth.Server.Operations;

namespace Berth.Server.Management;

/// <summary>
/// Berth extensions of the management plane (owner-authenticated like every management route): garbage collection of
/// one registry or of the whole server, and the integrity check. Each answers with its JSON report when done.
/// </summary>
internal static class MaintenanceHandlers
{
    // Problem kinds go on the wire in kebab case (corrupt-blob), the names the CLI and scripts read.
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static async Task GarbageCollectRegistryAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        await CollectAsync(context, registry.Name);
    }

    public static async Task GarbageCollectServerAsync(HttpContext context, string subscriptionId)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        await CollectAsync(context, null);
    }

    public static async Task CheckIntegrityAsync(HttpContext context, string subscriptionId)
    {
        ArmScope.EnsureSubscription(context, subscriptionId);
        var report = await context.RequestServices.GetRequiredService<IntegrityChecker>().CheckAsync(Flag(context, "quarantine"), context.RequestAborted);
        await WriteAsync(context, report);
    }

    private static async Task CollectAsync(HttpContext context, string? registry)
    {
        var report = await context.RequestServices.GetRequiredService<GarbageCollector>().RunAsync(registry, Flag(context, "dryRun"), context.RequestAborted);
        context.RequestServices.GetRequiredService<BerthMetrics>().GarbageCollected(report);
        await WriteAsync(context, report);
    }

    private static bool Flag(HttpContext context, string name) =>
        context.Request.Query[name].ToString() is { Length: > 0 } value && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    private static async Task WriteAsync<T>(HttpContext context, T report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, report, Json, context.RequestAborted);
    }
}
