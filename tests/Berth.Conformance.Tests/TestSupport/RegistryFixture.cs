using System.Text;
using System.Text.Json;
using Berth.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Berth.Server;

namespace Berth.Conformance.Tests.TestSupport;

/// <summary>
/// The real Berth server on a real Kestrel socket (loopback, ephemeral port) over a fresh data
/// folder. One instance is shared by the tests of a class; tests keep apart by using their own
/// repository names (<see cref="Repo.New"/>).
/// </summary>
public class RegistryFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataPath { get; } =
        Path.Combine(Path.GetTempPath(), "berth-conformance-" + Guid.NewGuid().ToString("N")[..12]);

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>A client that follows no redirects, so the tests see the registry's own answers.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>Extra configuration, as <c>--Key=value</c> arguments, for a fixture with another provider.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    public virtual async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataPath);
        _app = BerthApp.Build(["--urls", "http://127.0.0.1:0", "--Berth:DataPath=" + DataPath, .. ExtraArguments]);
        await _app.StartAsync();
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First());
        Authorization = await AdminAuthorizationAsync();
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (Authorization is not null) Client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", Authorization);
    }

    /// <summary>
    /// The <c>Authorization</c> header value the client sends: Basic credentials of the default registry's admin
    /// user, which the server writes to its data folder on first start (ACR accepts Basic directly on /v2).
    /// Null when the server wrote none.
    /// </summary>
    public string? Authorization { get; private set; }

    private async Task<string?> AdminAuthorizationAsync()
    {
        var path = Path.Combine(DataPath, "admin-credentials.json");
        if (!File.Exists(path)) return null;
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path));
        var username = document.RootElement.GetProperty("username").GetString();
        var password = document.RootElement.GetProperty("password").GetString();
        return "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"));
    }

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
