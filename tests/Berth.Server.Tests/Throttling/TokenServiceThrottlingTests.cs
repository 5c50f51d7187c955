using System.Net;
using System.Text.Json;

namespace Berth.Server.Tests.Throttling;

public sealed class TokenServiceThrottlingTests(ThrottlingTestServer server) : IClassFixture<ThrottlingTestServer>
{
    [Fact]
    public async Task AnonymousTokenRequests_AreLimitedPerAddress()
    {
        using var client = server.CreateClientFrom("127.0.0.9");

        var statuses = await SendAsync(client, () => new HttpRequestMessage(HttpMethod.Get, $"/oauth2/token?service={server.LoginServer}&scope=registry:catalog:*"), 30);

        Assert.Equal(HttpStatusCode.OK, statuses[0].Status);
        var refused = statuses.First(s => s.Status == HttpStatusCode.TooManyRequests);
        Assert.True(refused.RetryAfterSeconds >= 1);
        Assert.Equal("TOOMANYREQUESTS", refused.Code);
    }

    [Fact]
    public async Task AnonymousPasswordGrant_IsLimitedPerAddress()
    {
        // The Azure SDKs ask for anonymous tokens as a password grant with an empty refresh_token (reference §1.7).
        using var client = server.CreateClientFrom("127.0.0.14");

        var statuses = await SendAsync(client, () => new HttpRequestMessage(HttpMethod.Post, "/oauth2/token?api-version=2021-07-01")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["service"] = server.LoginServer, ["scope"] = "registry:catalog:*", ["refresh_token"] = "", ["grant_type"] = "password",
            }),
        }, 30);

        Assert.Equal(HttpStatusCode.OK, statuses[0].Status);
        Assert.Contains(statuses, s => s.Status == HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task WrongPasswords_AreRefusedWith429AfterTheBurst()
    {
        using var client = server.CreateClientFrom("127.0.0.10", BerthTestServer.BasicAuthorization(server.AdminUsername, "wrong-password"));

        var statuses = await SendAsync(client, () => new HttpRequestMessage(HttpMethod.Get, $"/oauth2/token?service={server.LoginServer}"), 20);

        Assert.All(statuses.Take(ThrottlingTestServer.FailedCredentialsBurst), s => Assert.Equal(HttpStatusCode.Unauthorized, s.Status));
        Assert.Contains(statuses, s => s.Status == HttpStatusCode.TooManyRequests && s.RetryAfterSeconds >= 1);
    }

    [Fact]
    public async Task AddressOutOfFailedAttempts_IsRefusedEvenWithTheRightPassword()
    {
        // Otherwise a guesser would still learn which password is right, only from a 200 among 429s.
        using var guesser = server.CreateClientFrom("127.0.0.11", BerthTestServer.BasicAuthorization(server.AdminUsername, "wrong-password"));
        using var rightPassword = server.CreateClientFrom("127.0.0.11", BerthTestServer.BasicAuthorization(server.AdminUsername, server.AdminPassword));
        await SendAsync(guesser, () => new HttpRequestMessage(HttpMethod.Get, $"/oauth2/token?service={server.LoginServer}"), 20);

        using var response = await rightPassword.GetAsync($"/oauth2/token?service={server.LoginServer}");

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
    }

    [Fact]
    public async Task WrongBasicPasswordsOnTheDataPlane_AreThrottledPerAddress()
    {
        using var client = server.CreateClientFrom("127.0.0.13", BerthTestServer.BasicAuthorization(server.AdminUsername, "wrong-password"));

        var statuses = await SendAsync(client, () => new HttpRequestMessage(HttpMethod.Get, "/v2/"), 20);

        Assert.Equal(HttpStatusCode.Unauthorized, statuses[0].Status);
        Assert.Contains(statuses, s => s.Status == HttpStatusCode.TooManyRequests && s.RetryAfterSeconds >= 1);
    }

    [Theory]
    [InlineData("127.0.0.15", "/v2/")]
    [InlineData("127.0.0.16", "/oauth2/token?service={0}")]
    public async Task GuessesFromAnAddressOutOfAttempts_AreRefusedBeforeThePasswordIsChecked(string address, string path)
    {
        // A refused guess must cost the server a bucket lookup, not a deliberately slow password hash. Each password
        // the server checks and rejects is one audit record, so the records count the guesses that reached the check.
        using var client = server.CreateClientFrom(address, BerthTestServer.BasicAuthorization(server.AdminUsername, "wrong-password"));

        var statuses = await SendAsync(client, () => new HttpRequestMessage(HttpMethod.Get, string.Format(path, server.LoginServer)), 20);

        Assert.Equal(3, statuses.Count(s => s.Status == HttpStatusCode.TooManyRequests));
        var checkedPasswords = server.Logs.Entries.Count(e => e.Category == Berth.Server.Operations.Audit.Category && e.Message.Contains($" from {address} [", StringComparison.Ordinal));
        Assert.Equal(statuses.Count(s => s.Status == HttpStatusCode.Unauthorized), checkedPasswords);
    }

    [Fact]
    public async Task WrongClientSecrets_AtTheManagementSignIn_AreThrottledPerAddress_EvenTheRightOneAfterwards()
    {
        var owner = server.ReadOwnerCredential();
        using var guesser = server.CreateClientFrom("127.0.0.17");
        using var elsewhere = server.CreateClientFrom("127.0.0.18");
        HttpRequestMessage SignIn(string secret) => new(HttpMethod.Post, "/adfs/oauth2/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = owner.ClientId, ["client_secret"] = secret, ["grant_type"] = "client_credentials", ["resource"] = ManagementAccess.ArmResource,
            }),
        };

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            var response = await guesser.SendAsync(SignIn("wrong-secret"));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
            else response.Dispose();
        }

        Assert.NotNull(refused);
        using (refused)
        {
            Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("temporarily_unavailable", body.RootElement.GetProperty("error").GetString());
        }
        Assert.All(statuses.Take(ThrottlingTestServer.FailedCredentialsBurst), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        using (var rightSecret = await guesser.SendAsync(SignIn(owner.ClientSecret)))
            Assert.Equal(HttpStatusCode.TooManyRequests, rightSecret.StatusCode);
        using (var otherAddress = await elsewhere.SendAsync(SignIn(owner.ClientSecret)))
            Assert.Equal(HttpStatusCode.OK, otherAddress.StatusCode);
    }

    [Fact]
    public async Task TokenResponse_CarriesTheRemainingBudget()
    {
        using var admin = server.CreateClientFrom("127.0.0.12", BerthTestServer.BasicAuthorization(server.AdminUsername, server.AdminPassword));

        using var response = await admin.GetAsync($"/oauth2/token?service={server.LoginServer}&scope=registry:catalog:*");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(long.Parse(Assert.Single(response.Headers.GetValues("x-ms-ratelimit-remaining-calls-per-second"))) > 0);
        Assert.Single(response.Headers.GetValues("RateLimit-Remaining"));
    }

    private sealed record Answer(HttpStatusCode Status, double? RetryAfterSeconds, string? Code);

    /// <summary>Sends <paramref name="count"/> requests one after another, stopping early after three refusals.</summary>
    private static async Task<List<Answer>> SendAsync(HttpClient client, Func<HttpRequestMessage> request, int count)
    {
        var answers = new List<Answer>();
        for (var i = 0; i < count && answers.Count(a => a.Status == HttpStatusCode.TooManyRequests) < 3; i++)
        {
            using var message = request();
            using var response = await client.SendAsync(message);
            string? code = null;
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                code = body.RootElement.GetProperty("errors")[0].GetProperty("code").GetString();
            }
            answers.Add(new Answer(response.StatusCode, response.Headers.RetryAfter?.Delta?.TotalSeconds, code));
        }
        return answers;
    }
}
