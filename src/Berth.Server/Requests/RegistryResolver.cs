using Berth.Core.Caching;
using Berth.Server.Hosting;
using Berth.Server.Configuration;

namespace Berth.Server.Requests;

/// <summary>
/// Chooses the registry a request addresses from its Host header: the registry whose login server matches
/// (with or without the port), else the configured default registry, so <c>127.0.0.1:5000</c> works with no set-up.
/// </summary>
public sealed class RegistryResolver(RegistryDirectory directory, ChangeGenerations generations, BerthOptions options)
{
    /// <summary>The registry resolved for a request, kept as a feature so that it is resolved once per request.</summary>
    private sealed record ResolvedRegistry(Registry Registry);

    public async Task<Registry> ResolveAsync(HttpContext context)
    {
        if (context.Features.Get<ResolvedRegistry>() is { } resolved) return resolved.Registry;
        var host = context.Request.Host;
        if (generations.IsShared)
        {
            // With generations shared between nodes, the resolution below reads the registry list's generation and then
            // the registry's own: two round trips. Reading the registry the cached map most likely gives first takes
            // both in one; the resolution then checks the guess like any cached answer.
            var guess = (host.HasValue ? directory.GuessNameByLoginServer(host.Value) ?? directory.GuessNameByLoginServer(host.Host) : null)
                ?? options.DefaultRegistry;
            await generations.RefreshAsync(guess, context.RequestAborted);
        }
        var registry = (host.HasValue ? await directory.FindByLoginServerOrNullAsync(host.Value, context.RequestAborted) : null)
            ?? (host.HasValue && host.Port is not null ? await directory.FindByLoginServerOrNullAsync(host.Host, context.RequestAborted) : null)
            ?? await directory.GetOrNullAsync(options.DefaultRegistry, context.RequestAborted)
            ?? throw new InvalidOperationException($"the default registry \"{options.DefaultRegistry}\" does not exist");
        context.Features.Set(new ResolvedRegistry(registry));
        return registry;
    }
}
