using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Berth.Core.Files;

namespace Berth.Server.Hosting.Tls;

/// <summary>
/// A certificate authority private to one Berth data folder, made with <see cref="CertificateRequest"/> (no external
/// tools). The CA (ECDSA P-256, ten years) is created once in its folder (mode 0700): <c>ca.key</c> (PKCS#8 PEM, 0600)
/// and <c>ca.crt</c> (PEM, the file clients trust), and reused on every later start. The server certificate is issued
/// afresh on each start for the names the server answers to, so a configuration change never leaves a stale name
/// list behind; its key lives only in memory and <c>server.crt</c> is written for inspection.
/// </summary>
public sealed class LocalCertificateAuthority
{
    public const string CaCertificateFileName = "ca.crt";
    public const string CaKeyFileName = "ca.key";
    public const string ServerCertificateFileName = "server.crt";

    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);
    private static readonly TimeSpan ServerLifetime = TimeSpan.FromDays(365);

    private readonly X509Certificate2 _ca;

    public string Directory { get; }

    /// <summary>The PEM file to hand to clients: <c>REQUESTS_CA_BUNDLE</c>, <c>NODE_EXTRA_CA_CERTS</c>, the system store.</summary>
    public string CaCertificatePath => Path.Combine(Directory, CaCertificateFileName);

    public X509Certificate2 CaCertificate => _ca;

    /// <summary>True when this call created the CA (first start on this data folder).</summary>
    public bool Created { get; }

    private LocalCertificateAuthority(string directory, X509Certificate2 ca, bool created)
    {
        Directory = directory;
        _ca = ca;
        Created = created;
    }

    /// <summary>Loads the CA in <paramref name="directory"/>, or creates it when there is none.</summary>
    public static LocalCertificateAuthority LoadOrCreate(string directory)
    {
        PrivateFiles.EnsureDirectory(directory);
        var certPath = Path.Combine(directory, CaCertificateFileName);
        var keyPath = Path.Combine(directory, CaKeyFileName);
        if (File.Exists(certPath) && File.Exists(keyPath))
        {
            if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(keyPath) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
                File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var loaded = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            if (loaded.NotAfter.ToUniversalTime() > DateTime.UtcNow.AddDays(30))
                return new LocalCertificateAuthority(directory, loaded, created: false);
            loaded.Dispose(); // about to expire: make a new one (clients must trust the new ca.crt)
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subjectBuilder = new X500DistinguishedNameBuilder();
        subjectBuilder.AddOrganizationName("Berth");
        subjectBuilder.AddCommonName($"Berth local CA {Environment.MachineName} {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z");
        var subject = subjectBuilder.Build();
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(ski);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(ski));
        var now = DateTimeOffset.UtcNow;
        var ca = request.CreateSelfSigned(now.AddMinutes(-5), now + CaLifetime);
        WriteFile(keyPath, key.ExportPkcs8PrivateKeyPem(), secret: true);
        WriteFile(certPath, ca.ExportCertificatePem(), secret: false);
        return new LocalCertificateAuthority(directory, ca, created: true);
    }

    /// <summary>A server certificate (with its private key) for the given DNS names and IP addresses; wildcards allowed.</summary>
    public X509Certificate2 IssueServerCertificate(IEnumerable<string> names)
    {
        var distinct = names.Select(n => n.Trim()).Where(n => n.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (distinct.Count == 0)
            throw new ArgumentException("a server certificate needs at least one name", nameof(names));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in distinct)
        {
            if (IPAddress.TryParse(name.Trim('[', ']'), out var address)) san.AddIpAddress(address);
            else san.AddDnsName(name);
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var firstDns = distinct.FirstOrDefault(n => !IPAddress.TryParse(n.Trim('[', ']'), out _)) ?? distinct[0];
        var subjectBuilder = new X500DistinguishedNameBuilder();
        subjectBuilder.AddOrganizationName("Berth");
        subjectBuilder.AddCommonName(firstDns);
        var request = new CertificateRequest(subjectBuilder.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(san.Build(critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        var now = DateTimeOffset.UtcNow;
        var notAfter = now + ServerLifetime;
        if (notAfter > _ca.NotAfter) notAfter = _ca.NotAfter.ToUniversalTime();
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(_ca, now.AddMinutes(-5), notAfter, serial);
        var withKey = issued.CopyWithPrivateKey(key);
        WriteFile(Path.Combine(Directory, ServerCertificateFileName), withKey.ExportCertificatePem(), secret: false);
        return withKey;
    }

    /// <summary>0600 for secrets, 0644 otherwise, replaced atomically (see <see cref="PrivateFiles"/>).</summary>
    private static void WriteFile(string path, string content, bool secret) =>
        PrivateFiles.Write(path, System.Text.Encoding.ASCII.GetBytes(content.EndsWith('\n') ? content : content + "\n"),
            secret ? PrivateFiles.SecretMode : PrivateFiles.PublicMode);
}
