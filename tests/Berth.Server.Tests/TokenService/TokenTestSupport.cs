using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Berth.Server.Tests.TokenService;

/// <summary>Small helpers shared by the token-service tests: token requests as clients make them, and reading what comes back.</summary>
internal static class TokenTestSupport
{
    public static string TokenQuery(BerthTestServer server, params string[] scopes) =>
        "/oauth2/token?service=" + Uri.EscapeDataString(server.LoginServer) + string.Concat(scopes.Select(s => "&scope=" + Uri.EscapeDataString(s)));

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>GET realm with Basic credentials; asserts 200 and returns the access token.</summary>
    public static async Task<string> GetAccessTokenAsync(BerthTestServer server, string username, string password, params string[] scopes)
    {
        using var client = server.CreateClient(BerthTestServer.BasicAuthorization(username, password));
        using var response = await client.GetAsync(TokenQuery(server, scopes));
        var body = await ReadJsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"token request answered {(int)response.StatusCode}: {body}");
        return body.GetProperty("access_token").GetString()!;
    }

    public static async Task<HttpResponseMessage> PostFormAsync(BerthTestServer server, string path, params (string Key, string Value)[] fields)
    {
        using var client = server.CreateClient();
        return await client.PostAsync(path, new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Key, f.Value))));
    }

    public static async Task<HttpStatusCode> StatusWithBearerAsync(BerthTestServer server, string token, string path = "/v2/", string? host = null)
    {
        using var client = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (host is not null)
            request.Headers.Host = host;
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>The <c>access</c> claim as (type, name, actions) tuples, whatever the key casing.</summary>
    public static List<(string Type, string Name, string[] Actions)> AccessOf(string token)
    {
        var payload = Jwt.Parse(token).Payload;
        return payload.GetProperty("access").EnumerateArray().Select(entry =>
        {
            string Get(string key) => entry.EnumerateObject().Single(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase)).Value.GetString()!;
            var actions = entry.EnumerateObject().Single(p => string.Equals(p.Name, "actions", StringComparison.OrdinalIgnoreCase)).Value
                .EnumerateArray().Select(a => a.GetString()!).ToArray();
            return (Get("type"), Get("name"), actions);
        }).ToList();
    }

    public static string Format(List<(string Type, string Name, string[] Actions)> access) =>
        string.Join(" ", access.Select(a => $"{a.Type}:{a.Name}:{string.Join(',', a.Actions)}"));
}
