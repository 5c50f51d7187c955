using Berth.Core.ArtifactCache;
using Berth.Core.Caching;
using Berth.Core.Files;
using Berth.Core.Webhooks;
using Berth.Server.Configuration;
using Berth.Server.Hosting;
using Berth.Server.Management;
using Berth.Server.Operations;
using Berth.Server.Requests;
using Berth.Server.Throttling;

namespace Berth.Server;

/// <summary>
/// The composition root: every service a Berth node runs, registered in one place from the <c>Berth</c> configuration
/// section. Each area registers its own pieces through one extension method; this file only chooses and orders them.
/// </summary>
public static class CompositionRoot
{
    public static IServiceCollection AddBerthRegistry(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(BerthOptions.Section).Get<BerthOptions>() ?? new BerthOptions();
        Validate(options);
        var dataPath = options.ResolvedDataPath;
        try
        {
            // Image content, the database and keys: the server's user only.
            PrivateFiles.EnsureDirectory(dataPath);
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(dataPath))
        {
            // A folder the server does not own (a mount point prepared by root) keeps its mode; what the server
            // creates inside it is private all the same.
        }

        services.AddSingleton(options);
        services.AddBerthIdentity(identity =>
        {
            configuration.GetSection($"{BerthOptions.Section}:Identity").Bind(identity);
            identity.KeyDirectory = options.ResolvedKeyPath;
        });
        services.AddSingleton<RegistryService>();
        services.AddSingleton<RegistryDirectory>();
        services.AddSingleton<RegistryResolver>();
        services.AddHostedService<DefaultRegistryBootstrap>();
        services.AddHostedService<LoginServerAlignment>();
        services.AddBerthContent();
        services.AddBerthWebhooks(webhooks => configuration.GetSection(WebhookOptions.Section).Bind(webhooks));
        services.AddBerthArtifactCache();
        services.AddOptions<ArtifactCacheOptions>().Bind(configuration.GetSection(ArtifactCacheOptions.Section)).ValidateOnStart();
        services.AddBerthProviders(options);
        services.AddBerthCaching();
        services.AddBerthManagementPlane(configuration, options);
        services.AddBerthThrottling(configuration);
        services.AddBerthOperations(configuration);
        Web.WebEndpoints.AddBerthWeb(services, options.ResolvedKeyPath);
        return services;
    }

    /// <summary>Bad configuration stops the process at start-up with a message naming the setting.</summary>
    private static void Validate(BerthOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.DataPath))
            throw new InvalidOperationException("Berth:DataPath must name a folder (for example --data ./data).");
        if (!Registry.IsValidName(options.DefaultRegistry))
            throw new InvalidOperationException($"Berth:DefaultRegistry \"{options.DefaultRegistry}\" is not a valid registry name (5-50 letters and digits).");
        if (string.IsNullOrWhiteSpace(options.LoginServerSuffix) || options.LoginServerSuffix.Contains('/'))
            throw new InvalidOperationException($"Berth:LoginServerSuffix \"{options.LoginServerSuffix}\" must be a host name suffix such as localhost or registry.example.com.");
        BerthProviders.Validate(options);
        TrustedProxies.CreateOptions(options);
    }
}
