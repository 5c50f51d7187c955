using Berth.Core.Registries;

namespace Berth.Server.Hosting;

/// <summary>
/// Chooses the registry a request addresses from its Host header: the registry whose login server matches
/// (with or without the port), else the configured default registry, so <c>127.0.0.1:5000</c> works with no set-up.
/// </summary>
public sealed class RegistryResolver(RegistryDirectory directory, BerthOptions options)
{
    private const string ItemKey = "Berth.Registry";

    public async Task<Registry> ResolveAsync(HttpContext context)
    {
        if (context.Items.TryGetValue(ItemKey, out var cached)) return (Registry)cached!;
        var host = context.Request.Host;
        var registry = (host.HasValue ? await directory.FindByLoginServerOrNullAsync(host.Value, context.RequestAborted) : null)
            ?? (host.HasValue && host.Port is not null ? await directory.FindByLoginServerOrNullAsync(host.Host, context.RequestAborted) : null)
            ?? await directory.GetOrNullAsync(options.DefaultRegistry, context.RequestAborted)
            ?? throw new InvalidOperationException($"the default registry \"{options.DefaultRegistry}\" does not exist");
        context.Items[ItemKey] = registry;
        return registry;
    }
}
