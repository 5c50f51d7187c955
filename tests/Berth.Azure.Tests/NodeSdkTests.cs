using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Berth.Azure.Tests.Infrastructure;
using Berth.Testing;
using Xunit.Abstractions;

namespace Berth.Azure.Tests;

/// <summary>
/// The Azure SDK for JavaScript (<c>@azure/container-registry</c>, pinned in node/package.json) against a Berth
/// process over HTTPS, trusting Berth's CA through <c>NODE_EXTRA_CA_CERTS</c>: node/sdk-test.js lists repositories
/// and tags and downloads a manifest and a blob anonymously while anonymous pull is on, is refused with 401 once it is
/// off, and does the same with a credential (owner service principal → /oauth2/exchange → refresh token).
/// node/arm-sdk-test.js drives the management SDK (<c>@azure/arm-containerregistry</c>) signed in with
/// <c>@azure/identity</c>'s ClientSecretCredential at Berth's ADFS authority, as a user's program would.
/// </summary>
public sealed class NodeSdkTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Repository = "library/hello";
    private const string Tag = "v1";
    private HttpsBerthServer _server = null!;

    public static string NodeFolder =>
        typeof(NodeSdkTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "NodeTestFolder").Value!;

    public async Task InitializeAsync()
    {
        if (!ExternalTool.IsInstalled("node") || !ExternalTool.IsInstalled("npm"))
            throw new InvalidOperationException("node and npm are needed: apt-get install -y nodejs npm (scripts/test.sh installs them).");
        await EnsureNodeModulesAsync();
        _server = await HttpsBerthServer.StartAsync();
        using var admin = _server.CreateAdminClient();
        await admin.PushImageAsync(Repository, new TestImage(payloadSize: 64 * 1024), Tag);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact]
    public async Task ContainerRegistryClient_reads_anonymously_only_while_anonymous_pull_is_on_and_always_with_a_credential()
    {
        await SetAnonymousPullAsync(true);
        var anonymous = await RunSdkAsync("anonymous");
        Assert.True(anonymous.ExitCode == 0, anonymous.Describe());
        Assert.Contains($"repositories: {Repository}", anonymous.StandardOutput);
        Assert.Contains($"tags: {Tag}", anonymous.StandardOutput);
        Assert.Contains("blob: sha256:", anonymous.StandardOutput);

        // Anonymous pull limited to the repository's pattern: the SDK's anonymous path reads it the same way.
        await SetAnonymousPullAsync(true, "library/*");
        var limited = await RunSdkAsync("anonymous");
        Assert.True(limited.ExitCode == 0, limited.Describe());
        Assert.Contains($"repositories: {Repository}", limited.StandardOutput);
        Assert.Contains("blob: sha256:", limited.StandardOutput);

        await SetAnonymousPullAsync(false);
        var refused = await RunSdkAsync("anonymous-refused");
        Assert.True(refused.ExitCode == 0, refused.Describe());
        Assert.Contains("refused: 401", refused.StandardOutput);
        Assert.Contains("manifest refused: 401", refused.StandardOutput);

        var authenticated = await RunSdkAsync("authenticated");
        Assert.True(authenticated.ExitCode == 0, authenticated.Describe());
        Assert.Contains($"repositories: {Repository}", authenticated.StandardOutput);
        Assert.Contains("manifest: sha256:", authenticated.StandardOutput);
        Assert.Contains("blob: sha256:", authenticated.StandardOutput);
        Assert.Contains("POST /oauth2/exchange", _server.Output);
    }

    [Fact]
    public async Task Management_sdk_signs_in_with_ClientSecretCredential_and_drives_registry_scope_maps_and_tokens()
    {
        // MSAL reads the ADFS discovery document first and needs its jwks_uri to answer with the signing keys.
        using (var client = _server.CreateClient())
        {
            using var discovery = JsonDocument.Parse(await client.GetStringAsync("adfs/.well-known/openid-configuration"));
            var jwksUri = discovery.RootElement.GetProperty("jwks_uri").GetString();
            Assert.Equal($"https://127.0.0.1:{_server.Port}/adfs/discovery/keys", jwksUri);
            using var keys = JsonDocument.Parse(await client.GetStringAsync(jwksUri));
            var key = Assert.Single(keys.RootElement.GetProperty("keys").EnumerateArray());
            Assert.Equal("RSA", key.GetProperty("kty").GetString());
            Assert.Equal("RS256", key.GetProperty("alg").GetString());
            Assert.Equal("AQAB", key.GetProperty("e").GetString());
            Assert.False(key.TryGetProperty("d", out _), "the JWKS must hold only the public key");
            Assert.Equal(256, Convert.FromBase64String(Base64Padded(key.GetProperty("n").GetString()!)).Length); // RSA 2048
        }

        using var owner = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_server.DataDirectory, "management", "owner.json")));
        var result = await ExternalTool.RunAsync("node", [Path.Combine(NodeFolder, "arm-sdk-test.js")], new Dictionary<string, string>
        {
            ["NODE_EXTRA_CA_CERTS"] = _server.CaCertificatePath,
            ["BERTH_ENDPOINT"] = $"https://127.0.0.1:{_server.Port}",
            ["BERTH_CLIENT_ID"] = _server.OwnerClientId,
            ["BERTH_CLIENT_SECRET"] = _server.OwnerClientSecret,
            ["BERTH_SUBSCRIPTION"] = owner.RootElement.GetProperty("subscriptionId").GetString()!,
            ["BERTH_RESOURCE_GROUP"] = owner.RootElement.GetProperty("resourceGroup").GetString()!,
            ["BERTH_REGISTRY"] = "myregistry",
            ["BERTH_REPOSITORY"] = Repository,
            ["HTTPS_PROXY"] = "",
            ["HTTP_PROXY"] = "",
        }, [_server.OwnerClientSecret], TimeSpan.FromMinutes(2), NodeFolder);
        output.WriteLine(result.Describe());
        Assert.True(result.ExitCode == 0, result.Describe());
        var lines = result.StandardOutput;
        Assert.Contains($"get: myregistry sku=Standard loginServer={_server.LoginServer} anonymousPullEnabled=false", lines);
        Assert.Contains("update on: anonymousPullEnabled=true", lines);
        Assert.Contains("anonymous token while on: 200", lines);
        Assert.Contains("update off: anonymousPullEnabled=false", lines);
        Assert.Contains("anonymous token while off: 401", lines);
        Assert.Contains("get after: anonymousPullEnabled=false", lines);
        Assert.Contains($"scope map: sdk-readers actions=repositories/{Repository}/content/read,repositories/{Repository}/metadata/read", lines);
        Assert.Contains("scope maps listed: sdk-readers", lines);
        Assert.Contains("token: sdk-reader status=enabled scopeMap=sdk-readers", lines);
        Assert.Contains("""token pull: 200 ["pull"]""", lines);
        Assert.Contains("""token push: 200 []""", lines);
        Assert.Contains("token disabled: status=disabled", lines);
        Assert.Contains("disabled token pull: 401 []", lines);
        Assert.Contains("tokens after delete: []", lines);
        // The SDK came through the standard sign-in: MSAL's discovery read, then the token endpoint.
        Assert.Contains("GET /adfs/.well-known/openid-configuration", _server.Output);
        Assert.Contains("POST /adfs/oauth2/token", _server.Output);
    }

    private static string Base64Padded(string base64Url)
    {
        var text = base64Url.Replace('-', '+').Replace('_', '/');
        return text.PadRight(text.Length + (4 - text.Length % 4) % 4, '=');
    }

    private async Task<ExternalToolResult> RunSdkAsync(string mode)
    {
        var result = await ExternalTool.RunAsync("node", [Path.Combine(NodeFolder, "sdk-test.js")], new Dictionary<string, string>
        {
            ["NODE_EXTRA_CA_CERTS"] = _server.CaCertificatePath,
            ["BERTH_ENDPOINT"] = $"https://127.0.0.1:{_server.Port}",
            ["BERTH_MODE"] = mode,
            ["BERTH_REPOSITORY"] = Repository,
            ["BERTH_TAG"] = Tag,
            ["BERTH_TOKEN_ENDPOINT"] = $"https://127.0.0.1:{_server.Port}/adfs/oauth2/token",
            ["BERTH_CLIENT_ID"] = _server.OwnerClientId,
            ["BERTH_CLIENT_SECRET"] = _server.OwnerClientSecret,
            ["BERTH_AUDIENCE"] = $"https://127.0.0.1:{_server.Port}",
            ["HTTPS_PROXY"] = "",
            ["HTTP_PROXY"] = "",
        }, [_server.OwnerClientSecret], TimeSpan.FromMinutes(2), NodeFolder);
        output.WriteLine(result.Describe());
        return result;
    }

    /// <summary><c>az acr update --anonymous-pull-enabled</c>'s request, sent with an owner token from the ADFS-style sign-in.</summary>
    private async Task SetAnonymousPullAsync(bool enabled, params string[] repositories)
    {
        using var client = _server.CreateClient();
        using var owner = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_server.DataDirectory, "management", "owner.json")));
        using var signIn = await client.PostAsync("adfs/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = _server.OwnerClientId,
            ["client_secret"] = _server.OwnerClientSecret,
            ["scope"] = $"https://management.localhost:{_server.Port}//.default",
        }));
        signIn.EnsureSuccessStatusCode();
        var token = (await signIn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString();
        var path = $"subscriptions/{owner.RootElement.GetProperty("subscriptionId").GetString()}/resourceGroups/{owner.RootElement.GetProperty("resourceGroup").GetString()}" +
                   "/providers/Microsoft.ContainerRegistry/registries/myregistry?api-version=2022-02-01-preview";
        using var request = new HttpRequestMessage(HttpMethod.Patch, path)
        {
            Content = new StringContent(JsonSerializer.Serialize(new
            {
                properties = new { anonymousPullEnabled = enabled, anonymousPullRepositories = repositories.Length == 0 ? ["*"] : repositories },
            }), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"PATCH anonymousPullEnabled={enabled}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>npm ci from the committed package-lock.json when node_modules is missing (it is never committed).</summary>
    private static async Task EnsureNodeModulesAsync()
    {
        if (File.Exists(Path.Combine(NodeFolder, "node_modules", "@azure", "container-registry", "package.json"))
            && File.Exists(Path.Combine(NodeFolder, "node_modules", "@azure", "arm-containerregistry", "package.json"))
            && File.Exists(Path.Combine(NodeFolder, "node_modules", "@azure", "identity", "package.json")))
            return;
        var install = await ExternalTool.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], timeout: TimeSpan.FromMinutes(5), workingDirectory: NodeFolder);
        Assert.True(install.ExitCode == 0, install.Describe());
    }
}
