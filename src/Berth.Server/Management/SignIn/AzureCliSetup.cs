using System.Text;
using Berth.Core.Files;
using Berth.Server.Hosting;
using Berth.Server.Hosting.Tls;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Berth.Server.Configuration;

namespace Berth.Server.Management.SignIn;

/// <summary>
/// Once the server listens, writes the exact shell lines that point an unmodified Azure CLI (Debian's azure-cli 2.45
/// or later) at it — hosts entries, CA trust, an isolated offline config, <c>az cloud register</c>, and both sign-ins
/// (owner service principal, loopback managed identity) — to <c>&lt;data&gt;/management/az-setup.txt</c> and to the log,
/// so a user goes from nothing to <c>az acr update --name myregistry --anonymous-pull-enabled</c> by copy-paste.
/// Secrets are never printed: the service principal line reads the secret from <c>owner.json</c> when it runs.
/// </summary>
public sealed class AzureCliSetup(
    BerthOptions options,
    BerthTlsState tls,
    ManagementSignIn signIn,
    RegistryService registries,
    IServer server,
    IHostApplicationLifetime lifetime,
    ILogger<AzureCliSetup> logger) : IHostedService
{
    public const string FileName = "az-setup.txt";
    public const string CloudName = "Berth";

    /// <summary>What a plain-HTTP server says about the Azure tooling instead of set-up lines that could not work.</summary>
    public const string PlainHttpLine =
        "The Azure CLI and SDKs need HTTPS: restart with --Berth:Tls:Mode=LocalCa (listens on " + BerthTls.DefaultHttpsUrls +
        " with a local CA; --urls https://127.0.0.1:<port> picks another port) to get their set-up lines here and in <data>/management/" + FileName + ".";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = Task.Run(WriteAsync));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WriteAsync()
    {
        try
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses.Select(a => new Uri(a.Replace("://+", "://0.0.0.0").Replace("://*", "://0.0.0.0"))).ToList() ?? [];
            var path = Path.Combine(ManagementBootstrap.DirectoryPath(options), FileName);
            if (!addresses.Any(a => a.Scheme == Uri.UriSchemeHttps))
            {
                // az and the Azure SDKs refuse plain HTTP, so set-up lines could only fail: say how to get HTTPS instead,
                // and leave no file from an earlier HTTPS start that names addresses this server no longer serves.
                File.Delete(path);
                logger.LogInformation("{Line}", PlainHttpLine);
                return;
            }
            var owner = await signIn.GetOwnerOrNullAsync(lifetime.ApplicationStopping);
            var all = await registries.ListAsync(lifetime.ApplicationStopping);
            var text = Render(options, tls, signIn.TenantId, signIn.ManagedIdentityEnabled, owner?.ClientId ?? "<owner client id>", addresses, all.Select(r => r.LoginServer));
            PrivateFiles.EnsureDirectory(Path.GetDirectoryName(path)!);
            PrivateFiles.Write(path, Encoding.UTF8.GetBytes(text));
            logger.LogInformation("Azure CLI set-up for this server (also in {Path}):\n{Lines}", path, text);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or InvalidOperationException or OperationCanceledException)
        {
            logger.LogWarning(error, "Could not write the Azure CLI set-up lines");
        }
    }

    /// <summary>The set-up script for a server listening on <paramref name="addresses"/>; pure, so it can be tested.</summary>
    public static string Render(BerthOptions options, BerthTlsState tls, string tenantId, bool managedIdentityEnabled, string ownerClientId,
        IReadOnlyList<Uri> addresses, IEnumerable<string> loginServers)
    {
        var https = addresses.FirstOrDefault(a => a.Scheme == Uri.UriSchemeHttps);
        var port = https?.Port ?? 443;
        var portSuffix = port == 443 ? "" : $":{port}";
        var arm = $"https://{options.ManagementHostName}{portSuffix}/";
        var msiBase = https ?? addresses.FirstOrDefault() ?? new Uri("http://127.0.0.1:5000");
        var msiHost = msiBase.Host is "0.0.0.0" or "[::]" or "::" or "localhost" ? "127.0.0.1" : msiBase.Host;
        var msiEndpoint = $"{msiBase.Scheme}://{msiHost}:{msiBase.Port}{ManagedIdentityEndpoint.Path}";
        var caBundle = tls.CaCertificatePath ?? "/path/to/the/ca-bundle-that-signed-your-certificate.pem";
        var ownerFile = Path.Combine(ManagementBootstrap.DirectoryPath(options), ManagementBootstrap.OwnerFileName);
        var hostNames = new[] { options.ManagementHostName, options.SignInHostName }
            .Concat(loginServers.Select(BerthOptions.HostWithoutPort))
            .Distinct(StringComparer.OrdinalIgnoreCase);

        var text = new StringBuilder();
        text.AppendLine("# Berth: the Azure CLI (Debian azure-cli 2.45 or later) against this server, fully local.");
        if (port != 443 && !options.LoginServerSuffix.EndsWith(portSuffix, StringComparison.Ordinal))
            text.AppendLine($"# WARNING: HTTPS is on port {port}, but login servers ({options.LoginServerFor(options.DefaultRegistry)}) name another port; right only when a load balancer or port mapping forwards it here. Otherwise restart with --Berth:LoginServerSuffix={BerthOptions.HostWithoutPort(options.LoginServerSuffix)}{portSuffix} (login servers follow it at start).");
        text.AppendLine("# 1. Name resolution, once, as root (this resolver does not map *.localhost by itself; one entry per registry):");
        text.AppendLine($"echo '127.0.0.1 {string.Join(' ', hostNames)}' | sudo tee -a /etc/hosts");
        text.AppendLine("# 2. Trust Berth's CA and keep az on this machine (MSI_ENDPOINT stops az from ever asking the cloud's metadata service):");
        text.AppendLine($"export REQUESTS_CA_BUNDLE={caBundle} SSL_CERT_FILE={caBundle} NODE_EXTRA_CA_CERTS={caBundle}");
        if (tls.CaCertificatePath is not null)
            text.AppendLine($"# (or trust it system-wide, which also covers skopeo, podman and docker: sudo cp {caBundle} /usr/local/share/ca-certificates/berth-local-ca.crt && sudo update-ca-certificates)");
        text.AppendLine("export AZURE_CONFIG_DIR=\"$HOME/.azure-berth\" AZURE_CORE_COLLECT_TELEMETRY=false AZURE_CORE_ERROR_RECOMMENDATION=off AZURE_CORE_SURVEY_MESSAGE=false AZURE_CORE_NO_COLOR=true");
        text.AppendLine($"export MSI_ENDPOINT={msiEndpoint}");
        text.AppendLine("# The first command in a new config folder would probe https://azure.microsoft.com for a newer az; record the installed version as current (with az's own Python):");
        text.AppendLine("\"$(sed -n '1s/^#!//p' \"$(command -v az)\")\" -c 'import datetime,json,os;from azure.cli.core import __version__ as v;d=os.environ[\"AZURE_CONFIG_DIR\"];os.makedirs(d,exist_ok=True);e={\"local\":v,\"pypi\":v};json.dump({\"versions\":{\"core\":e,\"azure-cli\":e,\"telemetry\":e},\"update_time\":str(datetime.datetime.now())},open(os.path.join(d,\"versionCheck.json\"),\"w\"))'");
        text.AppendLine("# 3. Register the cloud (az reads the sign-in authority and audience from /metadata/endpoints) and select it:");
        text.AppendLine($"az cloud register -n {CloudName} --endpoint-resource-manager {arm} --suffix-acr-login-server-endpoint .{options.LoginServerSuffix}");
        text.AppendLine($"az cloud set -n {CloudName}");
        text.AppendLine("# 4a. Sign in as the owner service principal (its secret is in owner.json, readable by the server's user only):");
        text.AppendLine($"az login --service-principal -u {ownerClientId} -p \"$(jq -r .clientSecret {ownerFile})\" --tenant {tenantId}");
        text.AppendLine(managedIdentityEnabled
            ? "# 4b. Or as the managed identity (this machine's loopback only; keep MSI_ENDPOINT exported for every az command):"
            : "# 4b. Or as the managed identity: restart the server with --Berth:Management:ManagedIdentityEnabled=true, keep MSI_ENDPOINT exported, then:");
        text.AppendLine("az login --identity");
        text.AppendLine("# 5. The documentation's commands now work as written:");
        text.AppendLine($"az acr update --name {options.DefaultRegistry} --anonymous-pull-enabled");
        text.AppendLine($"az acr show -n {options.DefaultRegistry} --query anonymousPullEnabled");
        return text.ToString();
    }
}
