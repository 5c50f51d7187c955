using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Berth.Server.Tests.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Server.Tests.Throttling;

/// <summary>
/// A server with anonymous pull on and small anonymous budgets: on the Standard tier one anonymous address gets
/// 1% of an identity's read and token budgets (a burst of 5, one more each second), all anonymous callers 50%
/// (250, 50 a second), the admin the whole (500, 100 a second). Failed credentials: 5 at once, one a second.
/// </summary>
public class ThrottlingTestServer : BerthTestServer, IAsyncLifetime
{
    public const int AnonymousAddressBurst = 5;
    public const int FailedCredentialsBurst = 5;

    /// <summary>How fast failed attempts come back.</summary>
    protected virtual int FailedCredentialsPerMinute => 60;

    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Berth:Throttling:Standard:Read:PerMinute=6000",
        "--Berth:Throttling:Standard:Read:Burst=500",
        "--Berth:Throttling:Standard:Token:PerMinute=6000",
        "--Berth:Throttling:Standard:Token:Burst=500",
        "--Berth:Throttling:AnonymousShare=0.5",
        "--Berth:Throttling:AnonymousPerAddressShare=0.01",
        $"--Berth:Throttling:FailedCredentialsPerAddress:PerMinute={FailedCredentialsPerMinute}",
        "--Berth:Throttling:FailedCredentialsPerAddress:Burst=5",
        $"--Berth:TrustedProxies:0={TrustedProxyAddress}",
    ];

    /// <summary>The server's log events, among them the audit trail's record of each password it checked and rejected.</summary>
    public CapturingLoggerProvider Logs { get; } = new();

    protected override void OnBuilt(WebApplication app) => app.Services.GetRequiredService<ILoggerFactory>().AddProvider(Logs);

    /// <summary>The one address whose X-Forwarded-* headers the server believes (a load balancer).</summary>
    public const string TrustedProxyAddress = "127.0.0.40";

    // Re-implements the fixture's start to switch anonymous pull on once the server runs.
    async Task IAsyncLifetime.InitializeAsync()
    {
        await InitializeAsync();
        await SetAnonymousPullAsync(true);
    }

    /// <summary>A client whose connections come from <paramref name="localAddress"/> (a loopback address), with optional credentials.</summary>
    public HttpClient CreateClientFrom(string localAddress, AuthenticationHeaderValue? authorization = null)
    {
        var local = IPAddress.Parse(localAddress);
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = authorization;
        return client;
    }

    /// <summary>An anonymous client at <paramref name="localAddress"/> holding an anonymous token, as docker holds one after its first 401.</summary>
    public async Task<HttpClient> CreateAnonymousClientAsync(string localAddress)
    {
        var client = CreateClientFrom(localAddress);
        using var response = await client.GetAsync($"/oauth2/token?service={LoginServer}&scope=registry:catalog:*");
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.RootElement.GetProperty("access_token").GetString());
        return client;
    }
}
