using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Server.Tests.Management;

/// <summary>A management test server whose log levels are captured, with the managed-identity endpoint on or off.</summary>
public abstract class ManagedIdentityTestServer(bool enabled) : BerthTestServer
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Logs { get; } = new();

    protected override IEnumerable<string> ExtraArguments =>
        ["--Berth:Throttling:Enabled=false", "--Berth:Management:ManagedIdentityEnabled=" + (enabled ? "true" : "false")];

    protected override void OnBuilt(WebApplication app) =>
        app.Services.GetRequiredService<ILoggerFactory>().AddProvider(new LevelCapture(Logs));

    public IReadOnlyList<string> Errors() => [.. Logs.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Category}: {e.Message}")];

    private sealed class LevelCapture(ConcurrentQueue<(string, LogLevel, string)> entries) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(entries, categoryName);

        public void Dispose() { }

        private sealed class Logger(ConcurrentQueue<(string, LogLevel, string)> entries, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue((category, logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception.GetType().Name)));
        }
    }
}

public sealed class ManagedIdentityOffServer() : ManagedIdentityTestServer(enabled: false);

public sealed class ManagedIdentityOnServer() : ManagedIdentityTestServer(enabled: true);

public sealed class ManagedIdentityOffTests(ManagedIdentityOffServer server) : IClassFixture<ManagedIdentityOffServer>
{
    [Theory]
    [InlineData("/msi/token")]
    [InlineData("/msi/token/")]
    public async Task Get_WhenOff_Returns404_WithoutErrorLogs(string path)
    {
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{path}?resource={Uri.EscapeDataString(ManagementAccess.ArmResource)}");
        request.Headers.Add("Metadata", "true");
        using var response = await client.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found", body["error"]!.GetValue<string>());
        Assert.Empty(server.Errors());
    }
}

public sealed class ManagedIdentityOnTests(ManagedIdentityOnServer server) : IClassFixture<ManagedIdentityOnServer>
{
    [Theory]
    [InlineData("/msi/token")]
    [InlineData("/msi/token/")]
    public async Task Get_ReturnsAnOwnerTokenForTheResource_ThatTheManagementPlaneAccepts(string path)
    {
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{path}?resource={Uri.EscapeDataString(ManagementAccess.ArmResource)}&api-version=2018-02-01");
        request.Headers.Add("Metadata", "true");
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());

        var body = JsonNode.Parse(text)!;
        var owner = server.ReadOwnerCredential();
        Assert.Equal("Bearer", body["token_type"]!.GetValue<string>());
        Assert.Equal(ManagementAccess.ArmResource, body["resource"]!.GetValue<string>());
        Assert.Equal(owner.ClientId, body["client_id"]!.GetValue<string>());
        Assert.Equal("", body["refresh_token"]!.GetValue<string>());
        var expiresIn = long.Parse(body["expires_in"]!.GetValue<string>());
        var expiresOn = long.Parse(body["expires_on"]!.GetValue<string>());
        var notBefore = long.Parse(body["not_before"]!.GetValue<string>());
        Assert.True(expiresIn > 0);
        Assert.Equal(expiresOn, notBefore + expiresIn, tolerance: 1);

        var token = body["access_token"]!.GetValue<string>();
        Assert.Equal(ManagementAccess.ArmResource, Jwt.Parse(token).Payload.GetProperty("aud").GetString());
        using var management = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        using var subscriptions = await management.GetAsync("/subscriptions?api-version=2022-12-01");
        Assert.Equal(HttpStatusCode.OK, subscriptions.StatusCode);
        Assert.Empty(server.Errors());
    }

    [Fact]
    public async Task Get_WithoutMetadataHeader_Returns400()
    {
        using var client = server.CreateClient();
        using var response = await client.GetAsync($"/msi/token?resource={Uri.EscapeDataString(ManagementAccess.ArmResource)}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
    }
}
