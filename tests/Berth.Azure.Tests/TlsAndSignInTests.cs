using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Berth.Server.Hosting;
using Berth.Server.Hosting.Tls;
using Berth.Server.Management.SignIn;
using Berth.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Berth.Server.Configuration;
using Berth.Server;

namespace Berth.Azure.Tests;

/// <summary>The local CA, user-supplied certificates, the managed-identity endpoint's guards and the az set-up text, in process.</summary>
public sealed class TlsAndSignInTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "berth-tls-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public void Local_CA_is_private_reused_on_restart_and_issues_certificates_clients_accept()
    {
        var folder = Path.Combine(_directory, "tls");
        var first = LocalCertificateAuthority.LoadOrCreate(folder);
        Assert.True(first.Created);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, LocalCertificateAuthority.CaKeyFileName)));

        var second = LocalCertificateAuthority.LoadOrCreate(folder);
        Assert.False(second.Created);
        Assert.Equal(first.CaCertificate.Thumbprint, second.CaCertificate.Thumbprint);

        var names = BerthTls.ServerNames(new BerthOptions { LoginServerSuffix = "acr.localhost:8443" }, new TlsOptions { HostNames = ["registry.example.test"] });
        Assert.Contains("*.acr.localhost", names);
        Assert.DoesNotContain("*.localhost", names);
        using var server = second.IssueServerCertificate(names);
        Assert.True(server.HasPrivateKey);
        Assert.True(server.MatchesHostname("myregistry.acr.localhost"));
        Assert.True(server.MatchesHostname("management.localhost"));
        Assert.True(server.MatchesHostname("login.localhost"));
        Assert.True(server.MatchesHostname("registry.example.test"));
        Assert.True(server.MatchesHostname("127.0.0.1"));
        Assert.False(server.MatchesHostname("example.com"));

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(X509CertificateLoader.LoadCertificateFromFile(second.CaCertificatePath));
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.1"));
        Assert.True(chain.Build(server), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
    }

    [Fact]
    public async Task User_supplied_certificate_from_Kestrel_configuration_serves_https()
    {
        Directory.CreateDirectory(_directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=berth.example.test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certPath = Path.Combine(_directory, "server.pem");
        var keyPath = Path.Combine(_directory, "server.key");
        await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());

        await using var app = BerthApp.Build(["--urls", "https://127.0.0.1:0", "--Berth:DataPath=" + Path.Combine(_directory, "data"),
            "--Kestrel:Certificates:Default:Path=" + certPath, "--Kestrel:Certificates:Default:KeyPath=" + keyPath]);
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            string? presented = null;
            using var client = new HttpClient(new SocketsHttpHandler
            {
                UseProxy = false,
                SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, cert, _, _) =>
                    {
                        presented = cert is null ? null : new X509Certificate2(cert).Thumbprint;
                        return presented == certificate.Thumbprint;
                    },
                },
            });
            using var response = await client.GetAsync(new Uri(new Uri(address), "/healthz"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(certificate.Thumbprint, presented);
            Assert.False(Directory.Exists(Path.Combine(_directory, "data", "tls"))); // no local CA unless asked for
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Theory]
    [InlineData("acr.localhost", "http://127.0.0.1:5000", "acr.localhost")]
    [InlineData("acr.localhost", "https://127.0.0.1:8443", "acr.localhost:8443")]
    [InlineData("acr.localhost", "http://127.0.0.1:5000;https://[::1]:9443", "acr.localhost:9443")]
    [InlineData("acr.localhost", "https://*:8443", "acr.localhost:8443")]
    [InlineData("acr.localhost", "https://127.0.0.1:443", "acr.localhost")]
    [InlineData("acr.localhost:7443", "https://127.0.0.1:8443", "acr.localhost:7443")] // given with a port: a balancer or port mapping in front
    [InlineData("registry.example.com:443", "https://127.0.0.1:8443", "registry.example.com")]
    public void Login_server_suffix_follows_the_https_listener_unless_given_with_a_port(string configured, string urls, string expected) =>
        Assert.Equal(expected, BerthOptions.SuffixForListeners(configured, [urls]));

    [Fact]
    public void Setup_text_names_every_step_and_warns_when_login_servers_lack_the_https_port()
    {
        var options = new BerthOptions { DataPath = "/srv/berth" };
        var tls = new BerthTlsState(TlsMode.LocalCa, "/srv/berth/tls/ca.crt", []);
        var text = AzureCliSetup.Render(options, tls, "tenant-guid", managedIdentityEnabled: true, "client-guid",
            [new Uri("https://127.0.0.1:8443")], ["myregistry.acr.localhost"]);
        Assert.Contains("az cloud register -n Berth --endpoint-resource-manager https://management.localhost:8443/ --suffix-acr-login-server-endpoint .acr.localhost", text);
        Assert.Contains("az login --service-principal -u client-guid -p \"$(jq -r .clientSecret /srv/berth/management/owner.json)\" --tenant tenant-guid", text);
        Assert.Contains("export MSI_ENDPOINT=https://127.0.0.1:8443/msi/token", text);
        Assert.Contains("REQUESTS_CA_BUNDLE=/srv/berth/tls/ca.crt SSL_CERT_FILE=/srv/berth/tls/ca.crt NODE_EXTRA_CA_CERTS=/srv/berth/tls/ca.crt", text);
        Assert.Contains("update-ca-certificates", text);
        Assert.Contains("az login --identity", text);
        Assert.Contains("--Berth:LoginServerSuffix=acr.localhost:8443", text); // the warning

        var on443 = AzureCliSetup.Render(options, tls, "t", false, "c", [new Uri("https://127.0.0.1:443")], ["myregistry.acr.localhost"]);
        Assert.DoesNotContain("WARNING", on443);
        Assert.Contains("--endpoint-resource-manager https://management.localhost/ ", on443);
    }

    [Fact]
    public async Task Managed_identity_endpoint_is_off_by_default()
    {
        var server = new BerthTestServer();
        await server.InitializeAsync();
        try
        {
            using var client = server.CreateClient();
            using var response = await client.PostAsync("/msi/token", MsiForm());
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Managed_identity_endpoint_issues_owner_tokens_to_loopback_callers_only()
    {
        var server = new ManagedIdentityServer();
        await server.InitializeAsync();
        try
        {
            await CheckManagedIdentityAsync(server);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task CheckManagedIdentityAsync(ManagedIdentityServer server)
    {
        using var client = server.CreateClient();

        using (var noHeader = await client.PostAsync("/msi/token", new FormUrlEncodedContent(new Dictionary<string, string> { ["resource"] = "https://management.localhost/" })))
            Assert.Equal(HttpStatusCode.BadRequest, noHeader.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/msi/token") { Content = MsiForm() };
        request.Headers.Add("Metadata", "true");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Bearer", body.GetProperty("token_type").GetString());
        Assert.Equal("https://management.localhost/", body.GetProperty("resource").GetString());
        Assert.True(long.Parse(body.GetProperty("expires_on").GetString()!) > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var accessToken = body.GetProperty("access_token").GetString()!;
        using var payload = JsonDocument.Parse(Jwt.Decode(accessToken.Split('.')[1]));
        Assert.Equal(server.ReadOwnerCredential().TenantId, payload.RootElement.GetProperty("tid").GetString());

        // The token is an owner management token.
        using var subscriptions = new HttpRequestMessage(HttpMethod.Get, "/subscriptions?api-version=2019-11-01");
        subscriptions.Headers.Authorization = new("Bearer", accessToken);
        using (var listed = await client.SendAsync(subscriptions))
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);

        // Not from loopback, or through a proxy: 403, whatever the server is bound to.
        Assert.Equal(StatusCodes.Status403Forbidden, await InvokeAsync(server, IPAddress.Parse("192.0.2.10"), forwarded: false));
        Assert.Equal(StatusCodes.Status403Forbidden, await InvokeAsync(server, IPAddress.Parse("2001:db8::1"), forwarded: false));
        Assert.Equal(StatusCodes.Status403Forbidden, await InvokeAsync(server, IPAddress.Loopback, forwarded: true));
        Assert.Equal(StatusCodes.Status200OK, await InvokeAsync(server, IPAddress.Parse("::ffff:127.0.0.1"), forwarded: false));
    }

    private static FormUrlEncodedContent MsiForm() => new(new Dictionary<string, string> { ["resource"] = "https://management.localhost/" });

    /// <summary>Runs the handler on a request from <paramref name="remote"/> without any network traffic.</summary>
    private static async Task<int> InvokeAsync(BerthTestServer server, IPAddress remote, bool forwarded)
    {
        var context = new DefaultHttpContext { RequestServices = server.Services };
        context.Connection.RemoteIpAddress = remote;
        context.Request.Method = "POST";
        context.Request.Path = ManagedIdentityEndpoint.Path;
        context.Request.QueryString = new QueryString("?resource=https%3A%2F%2Fmanagement.localhost%2F");
        context.Request.Headers["Metadata"] = "true";
        if (forwarded) context.Request.Headers["X-Forwarded-For"] = "198.51.100.7";
        context.Response.Body = new MemoryStream();
        await ManagedIdentityEndpoint.HandleAsync(context);
        return context.Response.StatusCode;
    }

    private sealed class ManagedIdentityServer : BerthTestServer
    {
        protected override IEnumerable<string> ExtraArguments => ["--Berth:Management:ManagedIdentityEnabled=true"];
    }
}
