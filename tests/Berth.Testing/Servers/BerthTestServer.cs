using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Berth.Core.Identity;
using Berth.Core.Registries;
using Berth.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Berth.Server;
using Berth.Core.Storage;

namespace Berth.Testing;

/// <summary>
/// The real Berth server on a real Kestrel socket (loopback, ephemeral port) over a fresh data folder, in the test
/// process so tests can also reach its domain services (to create tokens, flip settings) the way the management
/// plane does. Share one per test class; tests keep apart by using their own repository names.
/// </summary>
public class BerthTestServer : IAsyncLifetime
{
    private WebApplication? _app;

    /// <summary>The data folder; several servers given the same one (and one database) act as nodes of one installation.</summary>
    public string DataPath { get; protected init; } = Path.Combine(Path.GetTempPath(), "berth-test-" + Guid.NewGuid().ToString("N")[..12]);

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary><c>127.0.0.1:port</c>, the registry host as container tools spell it.</summary>
    public string Host => $"{BaseAddress.Host}:{BaseAddress.Port}";

    /// <summary>The default registry's name and login server (the <c>service</c> of challenges and the token audience).</summary>
    public string RegistryName { get; private set; } = null!;
    public string LoginServer { get; private set; } = null!;

    /// <summary>The admin user's credentials, read from the file the server writes on first start.</summary>
    public string AdminUsername { get; private set; } = null!;
    public string AdminPassword { get; private set; } = null!;

    /// <summary>"user:password" of the admin user, as skopeo's --creds and podman's --creds take it.</summary>
    public string AdminCredentials => $"{AdminUsername}:{AdminPassword}";

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The server is not running.");

    /// <summary>A client authenticated as the admin user with Basic credentials (ACR accepts them directly on /v2).</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>Extra configuration, as <c>--Key=value</c> arguments, for subclasses that need another set-up.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>Called after the app is built and before it starts, e.g. to add a logger provider that sees start-up too.</summary>
    protected virtual void OnBuilt(WebApplication app)
    {
    }

    public virtual async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataPath);
        _app = BerthApp.Build(["--urls", "http://127.0.0.1:0", "--Berth:DataPath=" + DataPath, .. ExtraArguments]);
        OnBuilt(_app);
        await _app.StartAsync();
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First());

        using (var document = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(DataPath, "admin-credentials.json"))))
        {
            var root = document.RootElement;
            RegistryName = root.GetProperty("registry").GetString()!;
            LoginServer = root.GetProperty("loginServer").GetString()!;
            AdminUsername = root.GetProperty("username").GetString()!;
            AdminPassword = root.GetProperty("password").GetString()!;
        }
        Client = CreateClient(BasicAuthorization(AdminUsername, AdminPassword));
    }

    /// <summary>A client that follows no redirects (tests see the registry's own answers) with an optional Authorization header.</summary>
    public HttpClient CreateClient(AuthenticationHeaderValue? authorization = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(100),
        };
        client.DefaultRequestHeaders.Authorization = authorization;
        return client;
    }

    public static AuthenticationHeaderValue BasicAuthorization(string username, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")));

    public IdentityService Identities => Services.GetRequiredService<IdentityService>();

    public RegistryService Registries => Services.GetRequiredService<RegistryService>();

    /// <summary>Creates a scope map with <paramref name="actions"/> and a token bound to it; returns the token's password1.</summary>
    public async Task<string> CreateTokenAsync(string tokenName, string scopeMapName, IReadOnlyList<string>? actions = null, DateTimeOffset? expiry = null)
    {
        if (actions is not null)
            await Identities.PutScopeMapAsync(RegistryName, RegistrySku.Standard, scopeMapName, null, actions, CancellationToken.None);
        await Identities.PutTokenAsync(RegistryName, RegistrySku.Standard, tokenName, scopeMapName, enabled: true, CancellationToken.None);
        var generated = await Identities.GenerateTokenPasswordsAsync(RegistryName, tokenName, "password1", expiry, CancellationToken.None);
        return generated.Passwords.Single(p => p.Name == "password1").Value;
    }

    public Task<RegistryUpdateResult> SetAnonymousPullAsync(bool enabled) =>
        Registries.UpdateAsync(RegistryName, new RegistryPatch(AnonymousPullEnabled: enabled), "tests", CancellationToken.None);

    public virtual async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the host; the temp folder is cleaned by the OS eventually.
        }
    }
}
