using Berth.Server.Configuration;

namespace Berth.Server.Management;

/// <summary>
/// At start, before the server listens, gives every registry the login server its name and the suffix in force make
/// (<see cref="BerthOptions.SuffixForListeners"/>). A registry created on plain HTTP keeps no stale login server after
/// the server moves to HTTPS on another port: az and the Azure SDKs dial the login server ARM advertises verbatim,
/// so an outdated one would point them at a port nobody listens on. Each move is logged with what it means for
/// credentials stored under the old name, and recorded in the registry's activity log.
/// </summary>
internal sealed class LoginServerAlignment(RegistryService registries, BerthOptions options, ILogger<LoginServerAlignment> logger) : IHostedService
{
    public const string Actor = "berth serve";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var registry in await registries.ListAsync(cancellationToken))
        {
            var expected = options.LoginServerFor(registry.Name);
            if (string.Equals(registry.LoginServer, expected, StringComparison.OrdinalIgnoreCase)) continue;
            await registries.MoveLoginServerAsync(registry.Name, expected, Actor, cancellationToken);
            DefaultRegistryBootstrap.FollowLoginServer(options, registry.Name, expected);
            logger.LogWarning(
                "Registry {Registry}: login server is now {LoginServer} (was {OldLoginServer}), following Berth:LoginServerSuffix and the HTTPS port; " +
                "credentials stored for the old name need a new login (berth acr login -n {Registry})",
                registry.Name, expected, registry.LoginServer, registry.Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
