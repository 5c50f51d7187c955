using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Berth.Core.Registries;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Berth.Core.Storage;

namespace Berth.Reliability.Tests.Security;

/// <summary>A test server whose every log line, from start-up on and at every level, is kept for inspection.</summary>
public sealed class LogCapturingServer : UnthrottledBerthTestServer
{
    public ConcurrentQueue<string> Lines { get; } = new();

    protected override IEnumerable<string> MoreArguments => ["--Logging:LogLevel:Default=Trace", "--Logging:Console:LogLevel:Default=Warning"];

    protected override void OnBuilt(WebApplication app) =>
        app.Services.GetRequiredService<ILoggerFactory>().AddProvider(new CapturingProvider(Lines));

    private sealed class CapturingProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, lines);
        public void Dispose() { }
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = new StringBuilder().Append(logLevel).Append(' ').Append(category).Append(": ").Append(formatter(state, exception));
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
                foreach (var (key, value) in values) line.Append(" |").Append(key).Append('=').Append(value);
            if (exception is not null) line.Append(' ').Append(exception);
            lines.Enqueue(line.ToString());
        }
    }
}

public sealed class SecurityTests(LogCapturingServer server) : IClassFixture<LogCapturingServer>
{
    [Fact]
    public async Task FullRun_NoPasswordTokenOrSecretAppearsInLogs()
    {
        var secrets = new List<string> { server.AdminPassword };
        var owner = server.ReadOwnerCredential();
        secrets.Add(owner.ClientSecret);

        // Push and pull with Basic admin credentials, then with a Bearer token from the token service.
        var image = new TestImage();
        await server.Client.PushImageAsync("secrets/app", image, "v1");
        using var tokenResponse = await server.Client.GetAsync($"/oauth2/token?service={server.LoginServer}&scope=repository:secrets/app:pull,push");
        var tokenBody = JsonDocument.Parse(await tokenResponse.Content.ReadAsStringAsync()).RootElement;
        var accessToken = tokenBody.GetProperty("access_token").GetString()!;
        secrets.Add(accessToken);
        if (tokenBody.TryGetProperty("refresh_token", out var refresh)) secrets.Add(refresh.GetString()!);
        using (var bearer = server.CreateClient(new AuthenticationHeaderValue("Bearer", accessToken)))
            Assert.Equal(image.Layer, await bearer.GetByteArrayAsync($"/v2/secrets/app/blobs/{image.LayerDigest}"));

        // OAuth2 POST with a refresh grant, a repository-scoped token, a wrong password (failures log too).
        var tokenPassword = await server.CreateTokenAsync("secrettoken", "secretmap", ["repositories/secrets/app/content/read"]);
        secrets.Add(tokenPassword);
        using (var client = server.CreateClient(BerthTestServer.BasicAuthorization("secrettoken", tokenPassword)))
        using (var pulled = await client.GetAsync($"/v2/secrets/app/manifests/v1"))
            Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);
        var wrongPassword = "wrong-" + Guid.NewGuid().ToString("N");
        secrets.Add(wrongPassword);
        using (var client = server.CreateClient(BerthTestServer.BasicAuthorization("secrettoken", wrongPassword)))
        using (var refused = await client.GetAsync("/v2/secrets/app/tags/list"))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        using (var exchange = await server.CreateClient().PostAsync("/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
               {
                   ["grant_type"] = "password", ["service"] = server.LoginServer, ["scope"] = "repository:secrets/app:pull",
                   ["username"] = "secrettoken", ["password"] = tokenPassword,
               })))
        {
            var body = await exchange.Content.ReadAsStringAsync();
            foreach (var name in new[] { "access_token", "refresh_token" })
                if (exchange.IsSuccessStatusCode && JsonDocument.Parse(body).RootElement.TryGetProperty(name, out var t)) secrets.Add(t.GetString()!);
        }

        // Management sign-in and a call that returns credentials.
        var managementToken = await server.GetManagementTokenAsync();
        secrets.Add(managementToken);
        using (var management = server.CreateClient(new AuthenticationHeaderValue("Bearer", managementToken)))
        using (var listed = await management.PostAsync(server.RegistryPath(server.RegistryName) + "/listCredentials?api-version=2023-07-01", null))
        {
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
            foreach (var password in JsonDocument.Parse(await listed.Content.ReadAsStringAsync()).RootElement.GetProperty("passwords").EnumerateArray())
                secrets.Add(password.GetProperty("value").GetString()!);
        }

        var lines = server.Lines.ToArray();
        Assert.True(lines.Length > 10, "the capture saw too few log lines to prove anything");
        foreach (var secret in secrets.Distinct())
        {
            var leaks = lines.Where(l => l.Contains(secret, StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, $"a secret ({secret[..4]}…) appears in {leaks.Count} log lines, e.g. {leaks.FirstOrDefault()?[..Math.Min(200, leaks[0].Length)]}");
            // A JWT's signature alone is as good as the token for nobody, but its payload+signature part is: check the tail too.
            if (secret.Count(c => c == '.') == 2) Assert.DoesNotContain(lines, l => l.Contains(secret[secret.LastIndexOf('.')..], StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task TokenPasswords_NotStoredInClearInTheDatabase()
    {
        var password = await server.CreateTokenAsync("atresttoken", "atrestmap", ["repositories/atrest/app/content/read"]);
        var database = Path.Combine(server.DataPath, "metadata");
        foreach (var file in Directory.EnumerateFiles(database))
        {
            var bytes = await ReadSharedAsync(file);
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(password)) < 0, $"{Path.GetFileName(file)} holds a token password in clear");
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(server.AdminPassword)) < 0, $"{Path.GetFileName(file)} holds the admin password in clear");
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(server.ReadOwnerCredential().ClientSecret)) < 0, $"{Path.GetFileName(file)} holds the owner's client secret in clear");
        }
    }

    [Fact]
    public void KeyFiles_AreOwnerReadWriteOnly()
    {
        var checkedFiles = 0;
        // Signing keys and CA keys (all of keys/ and tls/), the owner's client secret and the admin password file.
        var secretFiles = new[] { "keys", "tls" }.Select(f => Path.Combine(server.DataPath, f)).Where(Directory.Exists)
            .SelectMany(f => Directory.EnumerateFiles(f, "*", SearchOption.AllDirectories).Where(n => !n.EndsWith(".crt") && !n.EndsWith("cert.pem")))
            .Concat([server.OwnerFilePath(), Path.Combine(server.DataPath, "admin-credentials.json")]);
        foreach (var file in secretFiles)
        {
            var folder = Path.GetFileName(Path.GetDirectoryName(file));
            {
                var mode = File.GetUnixFileMode(file);
                Assert.True((mode & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) == 0, $"{folder}/{Path.GetFileName(file)} has mode {mode}");
                checkedFiles++;
            }
        }
        Assert.True(checkedFiles >= 2, $"only {checkedFiles} key files found to check");
    }

    [Fact]
    public async Task TokenFromAnotherRegistry_Rejected()
    {
        var registries = server.Services.GetRequiredService<RegistryDirectory>();
        var other = new Registry("secother", "secother.acr.localhost", RegistrySku.Standard, AnonymousPullEnabled: false,
            "00000000-0000-0000-0000-000000000000", "berth", "local", DateTimeOffset.UtcNow, Version: 1);
        await registries.CreateAsync(other, CancellationToken.None);
        await server.Identities.SetAdminUserEnabledAsync(other.Name, true, CancellationToken.None);
        var credentials = (await server.Identities.GetAdminCredentialsOrNullAsync(other.Name, CancellationToken.None))!;
        using var basic = server.CreateClient(BerthTestServer.BasicAuthorization(credentials.Username, credentials.Password));
        using var response = await basic.GetAsync($"/oauth2/token?service={other.LoginServer}&scope=repository:secrets/app:pull");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var foreign = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString()!;

        using var bearer = server.CreateClient(new AuthenticationHeaderValue("Bearer", foreign));
        using var refused = await bearer.GetAsync("/v2/secrets/app/tags/list");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        // The other registry's admin password is no key to this one either.
        using var crossBasic = await basic.GetAsync("/v2/secrets/app/tags/list");
        Assert.Equal(HttpStatusCode.Unauthorized, crossBasic.StatusCode);
    }

    [Fact]
    public async Task EveryManagementRoute_Unauthenticated401()
    {
        var routes = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && raw.StartsWith("/subscriptions", StringComparison.OrdinalIgnoreCase))
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m, e.RoutePattern)))
            .ToList();
        Assert.True(routes.Count >= 15, $"only {routes.Count} management routes found");
        using var anonymous = server.CreateClient();
        var wrong = server.CreateClient(new AuthenticationHeaderValue("Bearer", "not-a-token"));
        var basic = server.CreateClient(server.Client.DefaultRequestHeaders.Authorization);
        foreach (var (method, pattern) in routes)
        {
            var path = "/" + string.Join('/', pattern.PathSegments.Select(s => string.Concat(s.Parts.Select(p => p switch
            {
                RoutePatternLiteralPart literal => literal.Content,
                RoutePatternParameterPart parameter => parameter.Name == "name" ? server.RegistryName : "x" + parameter.Name.ToLowerInvariant(),
                _ => "",
            }))));
            foreach (var client in new[] { anonymous, wrong, basic })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path + "?api-version=2023-07-01");
                if (method is "PUT" or "PATCH" or "POST") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                using var response = await client.SendAsync(request);
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized,
                    $"{method} {path} answered {(int)response.StatusCode} to {client.DefaultRequestHeaders.Authorization?.Scheme ?? "no"} credentials");
            }
        }
        wrong.Dispose();
        basic.Dispose();
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
