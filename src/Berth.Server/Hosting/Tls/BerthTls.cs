using System.Net;
using System.Security.Cryptography.X509Certificates;
using Berth.Server.Configuration;

namespace Berth.Server.Hosting.Tls;

/// <summary>What the running server does for TLS, for the start-up instructions (<see cref="Berth.Server.Management.SignIn.AzureCliSetup"/>).</summary>
public sealed record BerthTlsState(TlsMode Mode, string? CaCertificatePath, IReadOnlyList<string> ServerNames);

/// <summary>
/// Wires TLS into Kestrel. With <see cref="TlsMode.LocalCa"/> every https listen address uses a certificate from the
/// data folder's <see cref="LocalCertificateAuthority"/>; otherwise Kestrel's own configuration applies
/// (<c>Kestrel:Certificates:Default:Path</c>/<c>KeyPath</c>, or per-endpoint certificates), which
/// <c>UseKestrelHttpsConfiguration</c> enables on the slim builder.
/// </summary>
public static class BerthTls
{
    /// <summary>The listen address when TLS is on and no <c>--urls</c> was given.</summary>
    public const string DefaultHttpsUrls = "https://127.0.0.1:5443";

    public static BerthTlsState Configure(WebApplicationBuilder builder, BerthOptions options)
    {
        builder.WebHost.UseKestrelHttpsConfiguration();
        var tls = builder.Configuration.GetSection(TlsOptions.Section).Get<TlsOptions>() ?? new TlsOptions();
        if (tls.Mode != TlsMode.LocalCa)
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(RefuseOldProtocols));
            return new BerthTlsState(tls.Mode, null, []);
        }

        var directory = string.IsNullOrWhiteSpace(tls.Directory)
            ? Path.Combine(options.ResolvedDataPath, "tls")
            : Path.GetFullPath(tls.Directory, Directory.GetCurrentDirectory());
        var ca = LocalCertificateAuthority.LoadOrCreate(directory);
        var names = ServerNames(options, tls);
        var certificate = ca.IssueServerCertificate(names);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
        {
            RefuseOldProtocols(https);
            https.ServerCertificate = certificate;
        }));
        return new BerthTlsState(tls.Mode, ca.CaCertificatePath, names);
    }

    /// <summary>
    /// TLS 1.2 and 1.3 only, whatever the machine's OpenSSL policy allows: every client Berth serves speaks them, and
    /// the older versions have known weaknesses. Applies to Kestrel-configured certificates too (HTTPS defaults).
    /// </summary>
    private static void RefuseOldProtocols(Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions https) =>
        https.SslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13;

    /// <summary>
    /// The names the server certificate covers: the management and sign-in hosts, <c>*.&lt;suffix&gt;</c> (a bare
    /// <c>*.localhost</c> would be refused by Python's hostname check, so the suffix must have two labels), the
    /// suffix itself, localhost, this machine's name, the loopback addresses, and any configured extras.
    /// </summary>
    public static IReadOnlyList<string> ServerNames(BerthOptions options, TlsOptions tls)
    {
        var suffixHost = BerthOptions.HostWithoutPort(options.LoginServerSuffix);
        var names = new List<string>
        {
            options.ManagementHostName,
            options.SignInHostName,
            "*." + suffixHost,
            suffixHost,
            "localhost",
            "127.0.0.1",
            "::1",
        };
        var machine = Dns.GetHostName();
        if (!string.IsNullOrWhiteSpace(machine) && Uri.CheckHostName(machine) == UriHostNameType.Dns) names.Add(machine);
        names.AddRange(tls.HostNames.Select(BerthOptions.HostWithoutPort));
        return names.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }
}
