using Berth.Core.Files;
using Berth.Core.Import;
using Berth.Core.Outbound;
using Berth.Server.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using Berth.Server.Configuration;

namespace Berth.Server.Management;

/// <summary>
/// Local hand-over to the operator and the <c>berth</c> CLI, in <c>&lt;data&gt;/management/</c> (mode 0700):
/// <list type="bullet">
/// <item><c>owner.json</c> (0600): the owner service principal's client id and clear secret, written when the owner is
/// created on first start (the database keeps only a hash). If the file is lost, the next start gives the owner a new
/// secret and writes it again, unless <c>Berth:Management:ReissueLostOwnerSecret</c> is false (additional nodes of a cluster).</item>
/// <item><c>endpoint.json</c> (0600): where this server listens, written once Kestrel has bound its addresses and removed
/// on shutdown, so a CLI on the same machine needs no flags.</item>
/// </list>
/// </summary>
internal sealed class ManagementBootstrap(
    ManagementSignIn signIn,
    BerthOptions options,
    Berth.Server.Hosting.Tls.BerthTlsState tls,
    IServer server,
    IHostApplicationLifetime lifetime,
    IOptions<ManagementOptions> management,
    ILogger<ManagementBootstrap> logger) : IHostedService
{
    public const string OwnerFileName = "owner.json";
    public const string EndpointFileName = "endpoint.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string DirectoryPath(BerthOptions options) => Path.Combine(options.ResolvedDataPath, "management");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var directory = DirectoryPath(options);
        PrivateFiles.EnsureDirectory(directory);
        var ownerPath = Path.Combine(directory, OwnerFileName);
        var created = await signIn.EnsureOwnerAsync(cancellationToken);
        if (created is not null)
        {
            WriteOwnerFile(ownerPath, created.Principal.ClientId, created.ClientSecret);
            logger.LogInformation("Created the management owner {ClientId}; its credential is in {OwnerPath} (readable by this user only)", created.Principal.ClientId, ownerPath);
        }
        else if (!File.Exists(ownerPath) && management.Value.ReissueLostOwnerSecret && await signIn.GetOwnerOrNullAsync(cancellationToken) is { } owner)
        {
            var secret = await signIn.RotateSecretAsync(owner.ClientId, cancellationToken);
            WriteOwnerFile(ownerPath, owner.ClientId, secret);
            logger.LogWarning("{OwnerPath} was missing: gave the management owner {ClientId} a new secret and wrote it there", ownerPath, owner.ClientId);
        }
        lifetime.ApplicationStarted.Register(WriteEndpointFile);
        lifetime.ApplicationStopping.Register(RemoveEndpointFile);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void WriteOwnerFile(string path, string clientId, string secret) =>
        WriteSecretFile(path, new
        {
            clientId,
            clientSecret = secret,
            tenantId = signIn.TenantId,
            subscriptionId = options.DefaultSubscriptionId,
            resourceGroup = options.DefaultResourceGroup,
        });

    private void WriteEndpointFile()
    {
        try
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
            if (addresses.Count == 0) return;
            // Prefer an address a local client can dial: wildcard binds are reached through loopback.
            var endpoints = addresses.Select(Dialable).ToList();
            var endpoint = endpoints.FirstOrDefault(a => a.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) ?? endpoints[0];
            WriteSecretFile(Path.Combine(DirectoryPath(options), EndpointFileName), new
            {
                endpoint,
                addresses = endpoints,
                authority = endpoint + "/adfs",
                tokenEndpoint = endpoint + "/adfs/oauth2/token",
                resource = endpoint + "/",
                tenantId = signIn.TenantId,
                subscriptionId = options.DefaultSubscriptionId,
                resourceGroup = options.DefaultResourceGroup,
                defaultRegistry = options.DefaultRegistry,
                loginServerSuffix = options.LoginServerSuffix,
                // The local CA that signed the https certificate (Berth:Tls:Mode=LocalCa), for clients on this machine to trust; null otherwise.
                caCertificate = tls.CaCertificatePath,
                processId = Environment.ProcessId,
            });
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(error, "Could not record the management endpoint in {Directory}", DirectoryPath(options));
        }
    }

    private void RemoveEndpointFile()
    {
        var path = Path.Combine(DirectoryPath(options), EndpointFileName);
        try
        {
            // Only our own record: another server may have started on the same data folder since.
            if (!File.Exists(path)) return;
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            if (document.RootElement.TryGetProperty("processId", out var pid) && pid.TryGetInt32(out var id) && id == Environment.ProcessId)
                File.Delete(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or JsonException)
        {
            logger.LogDebug(error, "Could not remove {Path}", path);
        }
    }

    private static string Dialable(string address)
    {
        var uri = new Uri(address.Replace("://+", "://0.0.0.0").Replace("://*", "://0.0.0.0"));
        var host = uri.Host switch
        {
            "0.0.0.0" => "127.0.0.1",
            "[::]" or "::" => "[::1]",
            _ => uri.Host,
        };
        return $"{uri.Scheme}://{host}:{uri.Port}";
    }

    /// <summary>0600 in a 0700 folder, replaced atomically (see <see cref="PrivateFiles"/>).</summary>
    private static void WriteSecretFile(string path, object content)
    {
        PrivateFiles.EnsureDirectory(Path.GetDirectoryName(path)!);
        PrivateFiles.Write(path, JsonSerializer.SerializeToUtf8Bytes(content, Indented));
    }
}

public static class ManagementHostingExtensions
{
    /// <summary>The management plane's services: sign-in, tokens and the owner bootstrap (the metadata provider registers the service principal store).</summary>
    public static IServiceCollection AddBerthManagementPlane(this IServiceCollection services, IConfiguration configuration, BerthOptions options)
    {
        services.AddBerthManagement(management =>
        {
            configuration.GetSection($"{BerthOptions.Section}:Management").Bind(management);
            management.Directory = ManagementBootstrap.DirectoryPath(options);
            management.KeyDirectory = options.ResolvedKeyPath;
        });
        services.AddHostedService<ManagementBootstrap>();
        services.AddHostedService<SignIn.AzureCliSetup>();
        services.AddSingleton(provider => ActivatorUtilities.CreateInstance<ImageSourceFactory>(provider,
            new DestinationGuard(options.Import.AllowedSources, options.ArtifactCache.AllowHttpUpstreams, ImageSourceFactory.AllowedSourcesSetting)));
        services.AddSingleton<ImageImporter>();
        services.AddSingleton<ImportOperations>();
        return services;
    }
}
