using Berth.Core.Files;

using Berth.Server.Configuration;

namespace Berth.Server.Management;

/// <summary>
/// On first start with an empty data folder, creates the default registry (Standard tier, anonymous pull off) with
/// its admin user enabled, and writes the admin credentials to a file only the server's user can read. The log
/// names the file; it never shows the secret.
/// </summary>
internal sealed class DefaultRegistryBootstrap(
    RegistryDirectory directory,
    IdentityService identities,
    BerthOptions options,
    TimeProvider time,
    ILogger<DefaultRegistryBootstrap> logger) : IHostedService
{
    public const string CredentialsFileName = "admin-credentials.json";

    public static string CredentialsPath(BerthOptions options) => Path.Combine(options.ResolvedDataPath, CredentialsFileName);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await directory.GetOrNullAsync(options.DefaultRegistry, cancellationToken) is not null) return;
        var name = options.DefaultRegistry.ToLowerInvariant();
        var registry = new Registry(name, options.LoginServerFor(name), RegistrySku.Standard, AnonymousPullEnabled: false,
            options.DefaultSubscriptionId, options.DefaultResourceGroup, options.DefaultLocation, time.GetUtcNow(), Version: 1);
        if (!await directory.CreateAsync(registry, cancellationToken)) return;

        await identities.SetAdminUserEnabledAsync(name, true, cancellationToken);
        var credentials = await identities.GetAdminCredentialsOrNullAsync(name, cancellationToken)
            ?? throw new InvalidOperationException("the admin user was enabled but has no credentials");
        var path = CredentialsPath(options);
        // Replaced, never written into: a file left in the data folder by an earlier installation keeps neither its
        // permissions nor its content.
        PrivateFiles.Write(path, JsonSerializer.SerializeToUtf8Bytes(new
        {
            registry = registry.Name,
            loginServer = registry.LoginServer,
            username = credentials.Username,
            password = credentials.Password,
            password2 = credentials.Password2,
        }, new JsonSerializerOptions { WriteIndented = true }));
        logger.LogInformation(
            "Created the default registry {Registry} (login server {LoginServer}, tier {Sku}); its admin credentials are in {CredentialsPath} (readable by this user only)",
            registry.Name, registry.LoginServer, registry.Sku, path);
    }

    /// <summary>
    /// Keeps the credentials file naming the login server the registry has now, so that a user who copies it into
    /// <c>podman login</c> after a move to HTTPS does not log in to a name nobody serves. Only the default registry's
    /// file exists; any other registry, or a file the user removed, is left alone.
    /// </summary>
    public static void FollowLoginServer(BerthOptions options, string registry, string loginServer)
    {
        var path = CredentialsPath(options);
        if (!File.Exists(path) || JsonNode.Parse(File.ReadAllBytes(path)) is not JsonObject file) return;
        if (!string.Equals((string?)file["registry"], registry, StringComparison.OrdinalIgnoreCase)) return;
        file["loginServer"] = loginServer;
        PrivateFiles.Write(path, JsonSerializer.SerializeToUtf8Bytes(file, new JsonSerializerOptions { WriteIndented = true }));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
