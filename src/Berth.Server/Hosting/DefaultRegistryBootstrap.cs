using Berth.Core.Registries;

namespace Berth.Server.Hosting;

/// <summary>
/// On first start with an empty data folder, creates the default registry (Standard tier, anonymous pull off)
/// so that a fresh server is usable at once.
/// </summary>
internal sealed class DefaultRegistryBootstrap(RegistryDirectory directory, BerthOptions options, TimeProvider time, ILogger<DefaultRegistryBootstrap> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await directory.GetOrNullAsync(options.DefaultRegistry, cancellationToken) is not null) return;
        var name = options.DefaultRegistry.ToLowerInvariant();
        var registry = new Registry(name, options.LoginServerFor(name), RegistrySku.Standard, AnonymousPullEnabled: false,
            options.DefaultSubscriptionId, options.DefaultResourceGroup, options.DefaultLocation, time.GetUtcNow(), Version: 1);
        if (await directory.CreateAsync(registry, cancellationToken))
            logger.LogInformation("Created the default registry {Registry} (login server {LoginServer}, tier {Sku})", registry.Name, registry.LoginServer, registry.Sku);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
