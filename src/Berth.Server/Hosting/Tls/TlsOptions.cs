namespace Berth.Server.Hosting.Tls;

/// <summary>How Berth obtains the certificate for its <c>https://</c> listen addresses (configuration <c>Berth:Tls</c>).</summary>
public enum TlsMode
{
    /// <summary>
    /// Berth makes no certificate. https URLs use Kestrel's standard configuration:
    /// <c>Kestrel:Certificates:Default:Path</c> and <c>:KeyPath</c> (PEM) or <c>:Password</c> (PFX).
    /// </summary>
    None,

    /// <summary>
    /// Berth keeps a certificate authority of its own under <c>&lt;data&gt;/tls</c> (created once, reused on restart) and
    /// issues itself a server certificate on every start that covers the management and sign-in hosts,
    /// <c>*.&lt;login server suffix&gt;</c>, <c>localhost</c>, 127.0.0.1 and ::1.
    /// </summary>
    LocalCa,
}

/// <summary>The <c>Berth:Tls</c> configuration section, e.g. <c>--Berth:Tls:Mode=LocalCa</c>.</summary>
public sealed class TlsOptions
{
    public const string Section = "Berth:Tls";

    public TlsMode Mode { get; set; } = TlsMode.None;

    /// <summary>More DNS names or IP addresses for the server certificate (LocalCa mode).</summary>
    public List<string> HostNames { get; set; } = [];

    /// <summary>Where the local CA lives; default <c>&lt;data&gt;/tls</c>.</summary>
    public string? Directory { get; set; }
}
