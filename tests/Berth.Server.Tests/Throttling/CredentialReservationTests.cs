using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Berth.Core.Identity;
using Berth.Core.Throttling;
using Microsoft.Extensions.DependencyInjection;
using Berth.Core.Storage;

namespace Berth.Server.Tests.Throttling;

/// <summary>
/// <see cref="ThrottlingTestServer"/> with failed attempts coming back only once a minute, so that a test can count
/// them exactly, and a token whose password is stored as the PBKDF2 hash Berth wrote before (a slow check, as an
/// existing database still holds), so that concurrent guesses really overlap inside the password check.
/// </summary>
public sealed class CredentialGuessingTestServer : ThrottlingTestServer
{
    public const string SlowTokenName = "slowtoken";
    public const string SlowTokenPassword = "legacy-password";

    protected override int FailedCredentialsPerMinute => 1;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await CreateTokenAsync(SlowTokenName, SystemScopeMaps.Pull);
        var store = Services.GetRequiredService<IIdentityStore>();
        var token = await store.GetTokenOrNullAsync(RegistryName, SlowTokenName, CancellationToken.None);
        // About half a CPU-second a check, as the default of 600,000 iterations was.
        const int iterations = 500_000;
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(SlowTokenPassword), salt, iterations, HashAlgorithmName.SHA256, 32);
        var legacy = $"$pbkdf2-sha256$v=1$i={iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
        await store.PutTokenAsync(token! with { Password1 = token.Password1! with { Secret = legacy } }, CancellationToken.None);
    }

    /// <summary>How many of the passwords from <paramref name="address"/> the server checked and rejected (one audit record each).</summary>
    public int CheckedPasswordsFrom(string address) =>
        Logs.Entries.Count(e => e.Category == Berth.Server.Operations.Audit.Category && e.Message.Contains($" from {address} [", StringComparison.Ordinal));

    /// <summary>Whether <paramref name="address"/> has a failed attempt left against the registry, without spending it.</summary>
    public async Task<bool> HasFailedAttemptLeftAsync(string address)
    {
        var key = new ThrottleKey(RegistryName, ThrottleSubject.FailedCredentialsAddress, "", ClientAddress.ToKey(IPAddress.Parse(address)), ThrottleCategory.Token);
        var decision = await Services.GetRequiredService<IThrottleCounterStore>().PeekAsync(key, new BucketLimit(FailedCredentialsBurst, 1.0 / 60), CancellationToken.None);
        return decision.Allowed;
    }
}

/// <summary>
/// Every password check first reserves one of the client address's failed attempts, and a right password gives it
/// back: concurrent guesses cannot outrun the budget, and each wrong one costs exactly one attempt.
/// </summary>
public sealed class CredentialReservationTests(CredentialGuessingTestServer server) : IClassFixture<CredentialGuessingTestServer>
{
    private const int Burst = ThrottlingTestServer.FailedCredentialsBurst;

    [Theory]
    [InlineData("127.0.1.1", "data plane")]
    [InlineData("127.0.1.2", "token GET")]
    [InlineData("127.0.1.3", "token POST")]
    public async Task ConcurrentWrongPasswords_AreCheckedOnlyForTheAttemptsInTheBudget(string address, string surface)
    {
        // Each check that ran and failed is one audit record; the attempts beyond the budget must be refused before it.
        using var client = server.CreateClientFrom(address);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            using var response = await client.SendAsync(Request(surface, CredentialGuessingTestServer.SlowTokenName, "wrong-password"));
            return response.StatusCode;
        }));

        Assert.Equal(Burst, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(40 - Burst, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(Burst, server.CheckedPasswordsFrom(address));
    }

    [Fact]
    public async Task RightPassword_SentWhileWrongOnesAreBeingChecked_IsRefused()
    {
        // The wrong guesses hold the whole budget while their (slow) checks run; the right password after them must
        // not be admitted in that window, or a burst of guesses would learn which one is right.
        const string address = "127.0.1.4";
        using var guesser = server.CreateClientFrom(address, BerthTestServer.BasicAuthorization(CredentialGuessingTestServer.SlowTokenName, "wrong-password"));
        using var rightPassword = server.CreateClientFrom(address, BerthTestServer.BasicAuthorization(server.AdminUsername, server.AdminPassword));
        var guesses = Enumerable.Range(0, Burst).Select(_ => guesser.GetAsync($"/oauth2/token?service={server.LoginServer}")).ToList();
        // Until the guesses have been counted, or for a moment shorter than any of their checks.
        var waited = Stopwatch.StartNew();
        while (await server.HasFailedAttemptLeftAsync(address) && waited.ElapsedMilliseconds < 300) await Task.Delay(5);

        using var response = await rightPassword.GetAsync($"/oauth2/token?service={server.LoginServer}");
        var guessed = await Task.WhenAll(guesses);

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.All(guessed, g => Assert.Equal(HttpStatusCode.Unauthorized, g.StatusCode));
        foreach (var g in guessed) g.Dispose();
    }

    [Theory]
    [InlineData("127.0.1.5", "data plane")]
    [InlineData("127.0.1.6", "token GET")]
    [InlineData("127.0.1.7", "token POST")]
    public async Task RightPasswordsAfterWrongOnes_LeaveTheBudgetAsTheWrongOnesLeftIt(string address, string surface)
    {
        using var client = server.CreateClientFrom(address);
        for (var i = 0; i < Burst - 1; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, Request(surface, server.AdminUsername, "wrong-password")));

        for (var i = 0; i < 10; i++)
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, Request(surface, server.AdminUsername, server.AdminPassword)));

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, Request(surface, server.AdminUsername, "wrong-password")));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(client, Request(surface, server.AdminUsername, server.AdminPassword)));
    }

    [Fact]
    public async Task LegacyPbkdf2Password_StillSignsIn()
    {
        using var client = server.CreateClientFrom("127.0.1.8",
            BerthTestServer.BasicAuthorization(CredentialGuessingTestServer.SlowTokenName, CredentialGuessingTestServer.SlowTokenPassword));

        using var response = await client.GetAsync($"/oauth2/token?service={server.LoginServer}&scope=repository:hello:pull");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task RightClientSecretAfterWrongOnes_LeavesTheSignInBudgetAsTheWrongOnesLeftIt()
    {
        var owner = server.ReadOwnerCredential();
        using var client = server.CreateClientFrom("127.0.1.9");
        HttpRequestMessage SignIn(string secret) => new(HttpMethod.Post, "/adfs/oauth2/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = owner.ClientId, ["client_secret"] = secret, ["grant_type"] = "client_credentials", ["resource"] = ManagementAccess.ArmResource,
            }),
        };
        for (var i = 0; i < Burst - 1; i++) Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, SignIn("wrong-secret")));

        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, await StatusAsync(client, SignIn(owner.ClientSecret)));

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(client, SignIn("wrong-secret")));
        Assert.Equal(HttpStatusCode.TooManyRequests, await StatusAsync(client, SignIn(owner.ClientSecret)));
    }

    private HttpRequestMessage Request(string surface, string username, string password) => surface switch
    {
        "data plane" => new(HttpMethod.Get, "/v2/") { Headers = { Authorization = BerthTestServer.BasicAuthorization(username, password) } },
        "token GET" => new(HttpMethod.Get, $"/oauth2/token?service={server.LoginServer}") { Headers = { Authorization = BerthTestServer.BasicAuthorization(username, password) } },
        _ => new(HttpMethod.Post, "/oauth2/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["service"] = server.LoginServer, ["grant_type"] = "password", ["username"] = username, ["password"] = password, ["scope"] = "registry:catalog:*",
            }),
        },
    };

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, HttpRequestMessage request)
    {
        using (request)
        using (var response = await client.SendAsync(request))
            return response.StatusCode;
    }
}
