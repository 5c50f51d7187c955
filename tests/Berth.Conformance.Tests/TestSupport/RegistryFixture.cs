using Berth.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Conformance.Tests.TestSupport;

/// <summary>
/// The real Berth server on a real Kestrel socket (loopback, ephemeral port) over a fresh data
/// folder. One instance is shared by the tests of a class; tests keep apart by using their own
/// repository names (<see cref="Repo.New"/>).
/// </summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataPath { get; } =
        Path.Combine(Path.GetTempPath(), "berth-conformance-" + Guid.NewGuid().ToString("N")[..12]);

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>A client that follows no redirects, so the tests see the registry's own answers.</summary>
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataPath);
        _app = BerthApp.Build(["--urls", "http://127.0.0.1:0", "--Berth:DataPath=" + DataPath]);
        await _app.StartAsync();
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First());
        Client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public async Task DisposeAsync()
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
