using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Berth.Testing;

namespace Berth.Azure.Tests.Infrastructure;

/// <summary>
/// <c>berth serve</c> as its own process over HTTPS with its local CA, on a free loopback port. The login server
/// suffix carries the port (<c>acr.localhost:PORT</c>), as it must for az when HTTPS is not on 443: az and the SDK use
/// ARM's <c>loginServer</c> verbatim. The managed-identity endpoint is on.
/// </summary>
public sealed class HttpsBerthServer : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "berth-azure-" + Guid.NewGuid().ToString("N")[..12]);
    public int Port { get; private set; }
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

    public string Output { get { lock (_output) return _output.ToString(); } }

    public static string ServerDllPath =>
        Environment.GetEnvironmentVariable("BERTH_SERVER_DLL") is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : typeof(HttpsBerthServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "BerthServerDll").Value!;

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
        Port = LoopbackPort.Free();
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = DataDirectory,
        };
        foreach (var argument in new[]
                 {
                     ServerDllPath, "serve", "--data", DataDirectory, "--urls", $"https://127.0.0.1:{Port}",
                     "--Berth:Tls:Mode=LocalCa", $"--Berth:LoginServerSuffix={LoginServerSuffix}",
                     "--Berth:Management:ManagedIdentityEnabled=true",
                 }.Concat(extraArguments))
            startInfo.ArgumentList.Add(argument);
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        startInfo.Environment.Remove("ASPNETCORE_URLS");
        _process = new Process { StartInfo = startInfo };
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"berth exited with {_process.ExitCode} before it became healthy\n{Output}");
            if (File.Exists(CaCertificatePath) && File.Exists(Path.Combine(DataDirectory, "management", "az-setup.txt")))
            {
                try
                {
                    using var client = CreateClient();
                    using var response = await client.GetAsync("healthz");
                    if (response.StatusCode == HttpStatusCode.OK) break;
                }
                catch (HttpRequestException) { }
            }
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
                throw new TimeoutException($"berth did not become healthy over HTTPS within 60 s\n{Output}");
            await Task.Delay(200);
        }

        using (var admin = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(DataDirectory, "admin-credentials.json"))))
        {
            AdminUsername = admin.RootElement.GetProperty("username").GetString()!;
            AdminPassword = admin.RootElement.GetProperty("password").GetString()!;
        }
        using (var owner = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(DataDirectory, "management", "owner.json"))))
        {
            OwnerClientId = owner.RootElement.GetProperty("clientId").GetString()!;
            OwnerClientSecret = owner.RootElement.GetProperty("clientSecret").GetString()!;
            TenantId = owner.RootElement.GetProperty("tenantId").GetString()!;
        }
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

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException) { }
            _process.Dispose();
        }
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
            if (_output.Length < 500_000) _output.AppendLine(line);
    }
}
