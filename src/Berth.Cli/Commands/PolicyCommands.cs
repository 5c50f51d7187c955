using static Berth.Cli.Commands.CommandBuilder;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth acr config retention|soft-delete show|update</c>: the registry's lifecycle policies in <c>properties.policies</c>,
/// read with a GET and changed with a PATCH of the one policy, as az does. Ranges and tiers are checked by the server
/// (retention: Premium, 0-365 days; soft delete: 1-90 days; not both at once).
/// </summary>
public static class PolicyCommands
{
    public static Command Build(CommandBuilder builder) => builder.Group("config", "Configure policies for Azure Container Registries.",
        builder.Group("retention", "Manage the retention policy for untagged manifests.",
            ShowPolicy(builder, "retentionPolicy", "Show the retention policy for untagged manifests."),
            UpdatePolicy(builder, "retentionPolicy", "days", "Update the retention policy for untagged manifests (Premium only).",
                "The number of days to keep an untagged manifest before it is deleted (0 to 365; 0 deletes at the next collection).", 7, retentionType: true)),
        builder.Group("soft-delete", "Manage the soft-delete policy.",
            ShowPolicy(builder, "softDeletePolicy", "Show the soft-delete policy."),
            UpdatePolicy(builder, "softDeletePolicy", "retentionDays", "Update the soft-delete policy.",
                "The number of days to keep a soft-deleted manifest or tag before it is purged (1 to 90).", null, retentionType: false)));

    private static Option<string> Registry() => Required("--registry", "The name of the container registry.", "-r");

    private static Command ShowPolicy(CommandBuilder builder, string policy, string description)
    {
        var (registry, group) = (Registry(), RegistryCommands.ResourceGroup());
        return builder.Leaf("show", description, [registry, group], async context =>
        {
            var resource = await context.Management.SendAsync(HttpMethod.Get, await RegistryCommands.RegistryPathAsync(context, registry, group), ManagementClient.RegistryApiVersion);
            context.Emit(resource?["properties"]?["policies"]?[policy]?.DeepClone());
        });
    }

    private static Command UpdatePolicy(CommandBuilder builder, string policy, string daysProperty, string description, string daysDescription, int? defaultDays, bool retentionType)
    {
        var (registry, group) = (Registry(), RegistryCommands.ResourceGroup());
        var status = Choice("--status", "Whether the policy is enabled.", ["enabled", "disabled"]);
        var days = new Option<int?>("--days") { Description = daysDescription };
        var type = Choice("--type", "The type of retention policy.", ["UntaggedManifests"]);
        var yes = Flag("--yes", "Do not prompt for confirmation.", "-y");
        Option[] options = retentionType ? [registry, group, status, days, type] : [registry, group, status, days, yes];
        return builder.Leaf("update", description, options, async context =>
        {
            if (retentionType && context.Get(type) is null) throw CliException.Usage("usage error: --type UntaggedManifests is required.");
            var path = await RegistryCommands.RegistryPathAsync(context, registry, group);
            var current = await context.Management.SendAsync(HttpMethod.Get, path, ManagementClient.RegistryApiVersion);
            var setting = new JsonObject();
            if (context.Get(status) is { } statusValue) setting["status"] = statusValue;
            if ((context.Get(days) ?? defaultDays) is { } daysValue)
            {
                if (!retentionType && current?["properties"]?["policies"]?[policy]?[daysProperty] is JsonValue old && old.TryGetValue<int>(out var oldDays) && oldDays > daysValue)
                    context.Confirm(context.Get(yes), "Soft-delete purge scheduling is determined by the registry's current retention days at the time of purge: " +
                        "reducing them may purge some soft-deleted artifacts at once.");
                setting[daysProperty] = daysValue;
            }
            var body = new JsonObject { ["properties"] = new JsonObject { ["policies"] = new JsonObject { [policy] = setting } } };
            var updated = await context.Management.SendAsync(HttpMethod.Patch, path, ManagementClient.RegistryApiVersion, body);
            context.Emit(updated?["properties"]?["policies"]?[policy]?.DeepClone());
        });
    }
}
