using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Berth.Cli.Cli;

/// <summary>
/// The CLI trusts its own server's local CA (<c>berth serve --Berth:Tls:Mode=LocalCa</c>) with no set-up: the CA named in
/// <c>&lt;data&gt;/management/endpoint.json</c>, else <c>&lt;data&gt;/tls/ca.crt</c>. It is added for this process's
/// connections only, never to the machine's trust store, and only as an extra root: a certificate must still match the
/// host name, and one the machine trusts anyway is accepted as before. The local CA signs nothing but Berth's own
/// server certificates, so it vouches for no other server.
/// </summary>
public static class LocalCaTrust
{
    public static string? CaCertificatePath(CommandContext context)
    {
        var data = ServerLocator.DataFolder(context);
        var named = ServerLocator.FirstString(ServerLocator.ReadEndpointFileOrNull(data), "caCertificate");
        var candidate = named ?? Path.Combine(data, "tls", "ca.crt");
        return File.Exists(candidate) ? candidate : null;
    }

    /// <summary>Makes <paramref name="handler"/> accept certificates issued by the local CA, when there is one.</summary>
    public static HttpMessageHandler Apply(HttpMessageHandler handler, CommandContext context)
    {
        if (handler is not SocketsHttpHandler sockets || sockets.SslOptions.RemoteCertificateValidationCallback is not null) return handler;
        if (CaCertificatePath(context) is not { } path) return handler;
        X509Certificate2 ca;
        try
        {
            ca = X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            context.DebugLine($"Cannot load the local CA {path}: {error.Message}");
            return handler;
        }
        context.DebugLine($"Trusting the server's local CA {path}");
        sockets.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (errors == SslPolicyErrors.None) return true;
            // A name mismatch or a missing certificate is never excused; only the unknown root is.
            if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var presented = new X509Certificate2(certificate);
            return chain.Build(presented);
        };
        return handler;
    }
}
