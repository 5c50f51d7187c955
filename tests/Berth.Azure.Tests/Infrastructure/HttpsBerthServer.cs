using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Berth.Testing;

namespace Berth.Azure.Tests.Infrastructure;

/// <summary>
/// <c>berth serve</c> as its own process over HTTPS with its local CA, on a free loopback port, over a data folder the
/// README's plain-HTTP quick start made first: the default registry was created as <c>myregistry.acr.localhost</c>, and
/// the HTTPS start must move it to <c>myregistry.acr.localhost:PORT</c> by itself (az and the SDK use ARM's
/// <c>loginServer</c> verbatim, so every az data-plane test here depends on it). No suffix is configured. The
/// managed-identity endpoint is on.
/// </summary>
public sealed class HttpsBerthServer : IAsyncDisposable
{
    private BerthProcess? _process;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "berth-azure-" + Guid.NewGuid().ToString("N")[..12]);
    public int Port => _process?.Port ?? 0;
    public string CaCertificatePath => Path.Combine(DataDirectory, "tls", "ca.crt");
    public string LoginServerSuffix => $"acr.localhost:{Port}";
    public string LoginServer => $"myregistry.{LoginServerSuffix}";
    public string ManagementUrl => $"https://management.localhost:{Port}/";
    public Uri LoopbackUrl => new($"https://127.0.0.1:{Port}/");
    public string MsiEndpoint => $"https://127.0.0.1:{Port}/msi/token";

    public string AdminUsername { get; private set; } = "";
    public string AdminPassword { get; private set; } = "";
    public string OwnerClientId { get; private set; } = "";
    public string OwnerClientSecret { get; private set; } = "";
    public string TenantId { get; private set; } = "";

    public string Output => _process?.Output ?? "";

    /// <summary>The default registry's login server as the plain-HTTP first start created it.</summary>
    public string QuickStartLoginServer { get; private set; } = "";
    /// <summary>Waits (bounded) until the server has written <paramref name="text"/>: its log is written asynchronously.</summary>
    public Task WaitForOutputAsync(string text) => _process!.WaitForOutputAsync(text, TimeSpan.FromSeconds(10));

    public static async Task<HttpsBerthServer> StartAsync(params string[] extraArguments)
    {
        var server = new HttpsBerthServer();
        try
        {
            await server.StartProcessAsync(extraArguments);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private async Task StartProcessAsync(string[] extraArguments)
    {
        Directory.CreateDirectory(DataDirectory);
        using (var quickStart = new BerthProcess(DataDirectory))
        {
            await quickStart.StartAsync();
            QuickStartLoginServer = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(DataDirectory, "admin-credentials.json")))
                .RootElement.GetProperty("loginServer").GetString()!;
        }
        _process = new BerthProcess(DataDirectory)
        {
            Https = true,
            Arguments = ["--Berth:Management:ManagedIdentityEnabled=true", .. extraArguments],
            // The CA the clients trust, and the setup script the az tests run.
            RequiredFiles = [Path.Combine("tls", "ca.crt"), Path.Combine("management", "az-setup.txt")],
        };
        await _process.StartAsync();

        (AdminUsername, AdminPassword) = (_process.Credentials!.Split(':', 2)[0], _process.Credentials.Split(':', 2)[1]);
        using var owner = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(DataDirectory, "management", "owner.json")));
        OwnerClientId = owner.RootElement.GetProperty("clientId").GetString()!;
        OwnerClientSecret = owner.RootElement.GetProperty("clientSecret").GetString()!;
        TenantId = owner.RootElement.GetProperty("tenantId").GetString()!;
    }

    /// <summary>An HTTPS client to 127.0.0.1:PORT that trusts exactly Berth's CA (and checks the name, as clients do).</summary>
    public HttpClient CreateClient(AuthenticationHeaderValue? authorization = null)
    {
        var ca = X509CertificateLoader.LoadCertificateFromFile(CaCertificatePath);
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(certificate));
                },
            },
        };
        var client = new HttpClient(handler) { BaseAddress = LoopbackUrl, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = authorization;
        return client;
    }

    public HttpClient CreateAdminClient() =>
        CreateClient(new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AdminUsername}:{AdminPassword}"))));

    public ValueTask DisposeAsync()
    {
        _process?.Dispose();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return ValueTask.CompletedTask;
    }
}
