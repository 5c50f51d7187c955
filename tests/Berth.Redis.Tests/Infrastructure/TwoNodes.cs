using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Berth.Redis.Tests.Infrastructure;

/// <summary>
/// Two nodes (<see cref="A"/> and <see cref="B"/>) of one installation: one PostgreSQL database, one data folder and one
/// Redis key space of their own. Node A starts first and creates the default registry; B finds it. Subclasses choose
/// the Redis server and extra settings.
/// </summary>
public class TwoNodes : IAsyncLifetime
{
    private PostgreSqlServer? _postgres;
    private string? _connectionString;

    public RedisNode A { get; private set; } = null!;
    public RedisNode B { get; private set; } = null!;

    public string DataPath { get; } = Path.Combine(Path.GetTempPath(), "berth-nodes-" + Guid.NewGuid().ToString("N")[..12]);

    /// <summary>Settings both nodes get on top of the shared database, storage and Redis.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    protected virtual async Task<string> RedisConfigurationAsync() => (await RedisServer.GetAsync()).Configuration;

    public virtual async Task InitializeAsync()
    {
        var redis = await RedisConfigurationAsync();
        var prefix = RedisServer.NewKeyPrefix();
        _postgres = await PostgreSqlServer.GetAsync();
        _connectionString = await _postgres.CreateDatabaseAsync();
        Directory.CreateDirectory(DataPath);
        A = new RedisNode(DataPath, _connectionString, redis, prefix, ExtraArguments);
        await A.InitializeAsync();
        B = new RedisNode(DataPath, _connectionString, redis, prefix, ExtraArguments);
        await B.InitializeAsync();
    }

    public virtual async Task DisposeAsync()
    {
        if (B is not null) await B.DisposeAsync();
        if (A is not null) await A.DisposeAsync();
        if (_postgres is not null && _connectionString is not null) await _postgres.DropDatabaseAsync(_connectionString);
    }

    /// <summary>Sets anonymous pull through node A's management plane, as <c>az acr update --anonymous-pull-enabled</c> does.</summary>
    public async Task SetAnonymousPullThroughAAsync(bool enabled)
    {
        using var management = await A.CreateManagementClientAsync();
        await ArmAsync(management, HttpMethod.Patch, A.RegistryPath(A.RegistryName), new { properties = new { anonymousPullEnabled = enabled } });
    }

    /// <summary>Sends one ARM request and fails unless it succeeded; returns the body.</summary>
    public static async Task<JsonNode?> ArmAsync(HttpClient client, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path + "?api-version=2022-02-01-preview");
        if (body is not null)
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>Asks <paramref name="node"/>'s token service for an access token; null when it answers 401.</summary>
    public static async Task<string?> GetAccessTokenOrNullAsync(BerthTestServer node, string scope, AuthenticationHeaderValue? credentials = null)
    {
        using var client = node.CreateClient(credentials);
        using var response = await client.GetAsync($"/oauth2/token?service={node.LoginServer}&scope={scope}");
        if (response.StatusCode == HttpStatusCode.Unauthorized) return null;
        await RegistryHttp.EnsureStatusAsync(response, HttpStatusCode.OK, $"token request for {scope}");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("access_token").GetString();
    }

    public static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);
}
