using static Berth.Cli.Commands.CommandBuilder;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth gc</c> and <c>berth fsck</c>: Berth's own maintenance commands (not in az). Both ask the running server
/// through its management API (found the same way as <c>berth acr</c>: the data folder's endpoint.json and owner.json,
/// or --endpoint), so they work online, alongside pushes, and print the server's JSON report.
/// </summary>
public static class MaintenanceCommands
{
    public static IEnumerable<Command> Build(CommandBuilder builder) => [GarbageCollect(builder), CheckIntegrity(builder)];

    private static Command GarbageCollect(CommandBuilder builder)
    {
        var name = Optional("--name", "Collect one registry's manifests and blob links (default: every registry). Unlinked blob bytes and expired uploads are always collected server-wide.", "-n");
        var group = Optional("--resource-group", "The registry's resource group (default: looked up).", "-g");
        var dryRun = Flag("--dry-run", "Report what would be removed without removing anything.");
        return builder.Leaf("gc", "Remove unreferenced blobs, untagged manifests (when the server is configured to) and expired uploads.",
            [name, group, dryRun, .. builder.Globals.All], async context =>
            {
                var management = context.Management;
                var registry = context.Get(name);
                var path = registry is null
                    ? $"subscriptions/{await management.GetSubscriptionIdAsync()}/providers/Microsoft.ContainerRegistry/garbageCollect"
                    : $"{await management.RegistryPathAsync(registry, context.Get(group))}/garbageCollect";
                if (context.Get(dryRun)) path += "?dryRun=true";
                var scope = registry is null ? "every registry" : $"registry {registry}";
                var report = await new WorkProgress(context, "berth gc").StepAsync(
                    $"{(context.Get(dryRun) ? "finding what garbage collection would remove" : "collecting garbage")} in {scope} on {management.Connection.Endpoint.Authority}",
                    () => management.SendAsync(HttpMethod.Post, path, ManagementClient.RegistryApiVersion));
                context.Emit(report);
                if (report?["heldByGracePeriod"] is JsonObject held)
                {
                    // Content just deleted or pushed stays until the grace period ends; without this line "would remove 0" looks like a bug.
                    context.Environment.Error.WriteLine(
                        $"berth gc: the grace period ({held["gracePeriod"]}) holds back {held["manifests"]} manifest(s), {held["blobLinks"]} blob link(s) and " +
                        $"{held["blobs"]} blob(s) ({held["blobBytes"]} bytes) until {held["until"]}; a run after that removes them unless something uses them again.");
                }
            });
    }

    private static Command CheckIntegrity(CommandBuilder builder)
    {
        var quarantine = Flag("--quarantine", "Move corrupt and misplaced blob files to <data>/quarantine/ (nothing is ever deleted).");
        return builder.Leaf("fsck", "Re-hash every stored blob and manifest and cross-check metadata against the blob store; exits 1 when it finds problems.",
            [quarantine, .. builder.Globals.All], async context =>
            {
                var management = context.Management;
                var path = $"subscriptions/{await management.GetSubscriptionIdAsync()}/providers/Microsoft.ContainerRegistry/checkIntegrity";
                if (context.Get(quarantine)) path += "?quarantine=true";
                var report = await new WorkProgress(context, "berth fsck").StepAsync(
                    $"re-hashing every blob and manifest on {management.Connection.Endpoint.Authority}{(context.Get(quarantine) ? " (moving corrupt files to quarantine)" : "")}",
                    () => management.SendAsync(HttpMethod.Post, path, ManagementClient.RegistryApiVersion));
                context.Emit(report);
                var problems = report?["problems"]?.AsArray().Count ?? 0;
                if (problems > 0)
                    throw new CliException($"fsck found {problems} problem(s); see the report above{(context.Get(quarantine) ? "" : " (--quarantine moves corrupt blobs aside)")}.");
            });
    }
}
