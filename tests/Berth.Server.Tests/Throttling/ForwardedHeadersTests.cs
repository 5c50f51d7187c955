using System.Net;

namespace Berth.Server.Tests.Throttling;

/// <summary>
/// X-Forwarded-For and X-Forwarded-Proto are believed from the configured balancer only: anyone else who sends them
/// neither changes the token realm nor escapes the per-address anonymous budget by naming a new address each time.
/// </summary>
public sealed class ForwardedHeadersTests(ThrottlingTestServer server) : IClassFixture<ThrottlingTestServer>
{
    private const int Requests = 12;

    [Fact]
    public async Task ForwardedHeadersFromAnUntrustedAddress_AreIgnored()
    {
        using var client = server.CreateClientFrom("127.0.0.41");

        Assert.StartsWith($"realm=\"http://{server.Host}/oauth2/token\"", await RealmAsync(client));
        // A new invented address on every request: all of them are still 127.0.0.41, which has a burst of 5.
        var statuses = await RequestTokensAsync(client, i => $"198.51.100.{i}");
        Assert.True(statuses.Count(s => s == HttpStatusCode.TooManyRequests) >= Requests - ThrottlingTestServer.AnonymousAddressBurst - 2,
            $"spoofed addresses escaped the per-address budget: {string.Join(", ", statuses)}");
    }

    [Fact]
    public async Task ForwardedHeadersFromTheTrustedBalancer_NameTheClient()
    {
        using var balancer = server.CreateClientFrom(ThrottlingTestServer.TrustedProxyAddress);

        Assert.StartsWith($"realm=\"https://{server.Host}/oauth2/token\"", await RealmAsync(balancer));
        // Twelve clients behind the balancer: each has a budget of its own.
        Assert.All(await RequestTokensAsync(balancer, i => $"203.0.113.{i}"), status => Assert.Equal(HttpStatusCode.OK, status));
        // One client behind it sending as many: its own budget runs out, as if it had connected directly.
        var statuses = await RequestTokensAsync(balancer, _ => "203.0.113.200");
        Assert.True(statuses.Count(s => s == HttpStatusCode.TooManyRequests) >= Requests - ThrottlingTestServer.AnonymousAddressBurst - 2,
            $"one forwarded client was not throttled: {string.Join(", ", statuses)}");
    }

    private static async Task<string> RealmAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        return response.Headers.WwwAuthenticate.Single().Parameter!;
    }

    /// <summary>Anonymous token requests in quick succession, each claiming to come from <paramref name="forwardedFor"/>(i).</summary>
    private async Task<List<HttpStatusCode>> RequestTokensAsync(HttpClient client, Func<int, string> forwardedFor)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 1; i <= Requests; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/oauth2/token?service={server.LoginServer}&scope=repository:forwarded:pull");
            request.Headers.Add("X-Forwarded-For", forwardedFor(i));
            using var response = await client.SendAsync(request);
            statuses.Add(response.StatusCode);
        }
        return statuses;
    }
}
