using System.Net.Http.Headers;
using System.Text.Json;

namespace Berth.Testing;

/// <summary>The owner service principal the server writes to <c>&lt;data&gt;/management/owner.json</c> on first start.</summary>
public sealed record OwnerCredential(string ClientId, string ClientSecret, string TenantId, string SubscriptionId, string ResourceGroup);

/// <summary>Signs in to a test server's management plane the way az does with a service principal (ADFS client credentials).</summary>
public static class ManagementAccess
{
    /// <summary>The resource az asks for when its cloud is Azure's; any resource works, it becomes the token's <c>aud</c>.</summary>
    public const string ArmResource = "https://management.core.windows.net/";

    public static string OwnerFilePath(this BerthTestServer server) => Path.Combine(server.DataPath, "management", "owner.json");

    public static OwnerCredential ReadOwnerCredential(this BerthTestServer server) => ReadOwnerCredential(server.DataPath);

    /// <summary>The owner of the server whose data folder is <paramref name="dataPath"/> (a server process, say).</summary>
    public static OwnerCredential ReadOwnerCredential(string dataPath)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(dataPath, "management", "owner.json")));
        var root = document.RootElement;
        return new OwnerCredential(
            root.GetProperty("clientId").GetString()!,
            root.GetProperty("clientSecret").GetString()!,
            root.GetProperty("tenantId").GetString()!,
            root.GetProperty("subscriptionId").GetString()!,
            root.GetProperty("resourceGroup").GetString()!);
    }

    /// <summary>A management access token for the owner from <c>POST /adfs/oauth2/token</c> (MSAL's form, scope = resource + "/.default").</summary>
    public static async Task<string> GetManagementTokenAsync(this BerthTestServer server, string resource = ArmResource)
    {
        using var client = server.CreateClient();
        return await GetManagementTokenAsync(client, server.DataPath, resource);
    }

    /// <summary>The owner's management token from the server <paramref name="client"/> talks to, whose data folder is <paramref name="dataPath"/>.</summary>
    public static async Task<string> GetManagementTokenAsync(HttpClient client, string dataPath, string resource = ArmResource)
    {
        var owner = ReadOwnerCredential(dataPath);
        using var response = await client.PostAsync("/adfs/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = owner.ClientId,
            ["grant_type"] = "client_credentials",
            ["client_info"] = "1",
            ["client_secret"] = owner.ClientSecret,
            ["scope"] = resource + "/.default",
        }));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"management sign-in failed: {(int)response.StatusCode} {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>A client carrying the owner's management token, as az sends it to ARM.</summary>
    public static async Task<HttpClient> CreateManagementClientAsync(this BerthTestServer server) =>
        server.CreateClient(new AuthenticationHeaderValue("Bearer", await server.GetManagementTokenAsync()));

    /// <summary><c>/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerRegistry/registries/{name}</c>.</summary>
    public static string RegistryPath(this BerthTestServer server, string name, string? resourceGroup = null)
    {
        var owner = server.ReadOwnerCredential();
        return $"/subscriptions/{owner.SubscriptionId}/resourceGroups/{resourceGroup ?? owner.ResourceGroup}/providers/Microsoft.ContainerRegistry/registries/{name}";
    }
}
