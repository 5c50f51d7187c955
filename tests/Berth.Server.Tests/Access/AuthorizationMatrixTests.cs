using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Berth.Server.Access;
using Xunit.Abstractions;

namespace Berth.Server.Tests.Access;

/// <summary>
/// The authorization matrix of issue 3: every data-plane endpoint × every kind of caller, each cell its own named
/// test case. A cell checks the status; on a 401 also the exact ACR challenge (realm, service, the scope of the
/// reference §1.2 table, <c>error="insufficient_scope"</c> only when valid credentials lack the scope), the
/// UNAUTHORIZED body with its <c>detail</c> list, and that the refused request changed nothing; on success the
/// bytes or effect the endpoint must produce.
/// </summary>
public abstract class AuthorizationMatrixTests<TFixture>(TFixture fixture, ITestOutputHelper output) : AuthorizationMatrixCells<TFixture>(fixture)
    where TFixture : AuthorizationMatrixFixture
{
    public static TheoryData<string, string> Cells()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in MatrixEndpoint.All)
        {
            foreach (var identity in MatrixIdentity.All)
                data.Add(endpoint.Name, identity.Name);
        }
        return data;
    }

    [Fact]
    public void Matrix_CoversEveryEndpointForEveryIdentity()
    {
        var cells = Cells().Count();
        output.WriteLine($"authorization matrix: {MatrixEndpoint.All.Count} endpoints x {MatrixIdentity.All.Count} identities = {cells} cells");
        Console.WriteLine($"authorization matrix: {MatrixEndpoint.All.Count} endpoints x {MatrixIdentity.All.Count} identities = {cells} cells");
        Assert.Equal(17, MatrixEndpoint.All.Count);
        Assert.Equal(MatrixEndpoint.All.Count * MatrixIdentity.All.Count, cells);
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public Task Cell_AnswersWithTheExpectedStatusChallengeAndBody(string endpointName, string identityName) => CheckCellAsync(endpointName, identityName);
}

/// <summary>
/// The matrix on a registry whose anonymous pull covers some repositories only (<see cref="MatrixIdentity.Public"/>):
/// the same endpoints and checks, with anonymous callers and callers holding credentials on the public and the private
/// repository. A refused anonymous caller is told that the repository is not public.
/// </summary>
public abstract class PublicAuthorizationMatrixTests<TFixture>(TFixture fixture) : AuthorizationMatrixCells<TFixture>(fixture)
    where TFixture : AuthorizationMatrixFixture
{
    public static TheoryData<string, string> PublicCells()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in MatrixEndpoint.All)
        {
            foreach (var identity in MatrixIdentity.Public)
                data.Add(endpoint.Name, identity.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PublicCells))]
    public Task Cell_AnswersWithTheExpectedStatusChallengeAndBody(string endpointName, string identityName) => CheckCellAsync(endpointName, identityName);
}

/// <summary>How one cell of a matrix is checked, whichever callers the matrix has.</summary>
public abstract class AuthorizationMatrixCells<TFixture>(TFixture fixture) : IClassFixture<TFixture>
    where TFixture : AuthorizationMatrixFixture
{
    protected async Task CheckCellAsync(string endpointName, string identityName)
    {
        var endpoint = MatrixEndpoint.Get(endpointName);
        var identity = MatrixIdentity.Get(identityName);
        switch (identity.Kind)
        {
            case CallerKind.NoCredentials:
                await SendAndCheckAsync(endpoint, identity, null, allowed: false, insufficientScope: false);
                break;
            case CallerKind.Rejected:
                await SendAndCheckAsync(endpoint, identity, fixture.Basic(identity), allowed: false, insufficientScope: false);
                break;
            case CallerKind.Valid:
                var allowed = identity.Allows(endpoint);
                await SendAndCheckAsync(endpoint, identity, await AuthorizationAsync(endpoint, identity), allowed, insufficientScope: !allowed);
                break;
            case CallerKind.ScopeMapChangedMidTest:
                await fixture.SetChangingScopeMapAsync(AuthorizationMatrixFixture.WideActions);
                var authorization = await AuthorizationAsync(endpoint, identity);
                var allowedBefore = identity.Allows(endpoint);
                await SendAndCheckAsync(endpoint, identity, authorization, allowedBefore, insufficientScope: !allowedBefore);
                await fixture.SetChangingScopeMapAsync(AuthorizationMatrixFixture.NarrowActions);
                try
                {
                    // The same credentials (for Bearer: the very token issued before the change) on the very next request.
                    var allowedAfter = endpoint.RequiredActions.Length == 0 && !endpoint.NeedsCatalog;
                    await SendAndCheckAsync(endpoint, identity, authorization, allowedAfter, insufficientScope: !allowedAfter);
                }
                finally
                {
                    await fixture.SetChangingScopeMapAsync(AuthorizationMatrixFixture.WideActions);
                }
                break;
        }
    }

    private async Task<AuthenticationHeaderValue?> AuthorizationAsync(MatrixEndpoint endpoint, MatrixIdentity identity)
    {
        if (!identity.Bearer)
            return fixture.Basic(identity);
        // What docker asks for: the challenge's scope, and for a mount also pull on the source repository.
        var scopes = new List<string>();
        if (endpoint.ChallengeScope(identity.Repository) is { } scope)
            scopes.Add(scope);
        if (endpoint.Name == "POST mount")
            scopes.Add($"repository:{AuthorizationMatrixFixture.MountSourceFor(identity.Repository)}:pull");
        return await fixture.BearerAsync(identity, scopes);
    }

    private async Task SendAndCheckAsync(MatrixEndpoint endpoint, MatrixIdentity identity, AuthenticationHeaderValue? authorization, bool allowed, bool insufficientScope)
    {
        var repository = identity.Repository;
        var arranged = await endpoint.Arrange(fixture, repository);
        using var request = arranged.Request;
        request.Headers.Authorization = authorization;
        using var client = fixture.Server.CreateClient();
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var context = $"{endpoint.Name} as {identity.Name}: {(int)response.StatusCode} {body}";

        if (allowed && fixture.RedirectsBlobDownloads && endpoint.Name == "GET blob")
        {
            // The registry authorizes, then hands the download to the object store; the signed URL alone fetches the bytes.
            Assert.True(response.StatusCode == HttpStatusCode.TemporaryRedirect, $"expected 307; {context}");
            using var store = new HttpClient();
            using var followed = await store.GetAsync(response.Headers.Location);
            Assert.True(followed.StatusCode == HttpStatusCode.OK, $"expected 200 from {response.Headers.Location?.GetLeftPart(UriPartial.Path)}; {context}");
            await arranged.VerifyAllowed!(followed);
            return;
        }
        if (allowed)
        {
            Assert.True(endpoint.AllowedStatus == response.StatusCode, $"expected {(int)endpoint.AllowedStatus}; {context}");
            Assert.False(response.Headers.Contains("WWW-Authenticate"), context);
            if (arranged.VerifyAllowed is not null)
                await arranged.VerifyAllowed(response);
            return;
        }

        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"expected 401; {context}");
        var expectedChallenge = $"Bearer realm=\"http://{fixture.Server.Host}/oauth2/token\",service=\"{fixture.Server.LoginServer}\"";
        if (endpoint.ChallengeScope(repository) is { } scope)
            expectedChallenge += $",scope=\"{scope}\"";
        if (insufficientScope)
            expectedChallenge += ",error=\"insufficient_scope\"";
        Assert.True(response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var challenges), context);
        Assert.Equal(expectedChallenge, Assert.Single(challenges));

        if (request.Method != HttpMethod.Head)
        {
            Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            using var document = JsonDocument.Parse(body);
            var error = Assert.Single(document.RootElement.GetProperty("errors").EnumerateArray());
            Assert.Equal("UNAUTHORIZED", error.GetProperty("code").GetString());
            var message = error.GetProperty("message").GetString()!;
            // An anonymous caller refused a repository anonymous pull does not cover is told so; refused credentials on a
            // registry with anonymous pull on are told to drop them; everyone else gets ACR's text alone.
            if (identity.Kind == CallerKind.Rejected && fixture.PublicRepositories is not null)
                Assert.Contains($"logout {fixture.Server.LoginServer}", message);
            else if (identity.IsAnonymous && endpoint.RequiredActions.Length > 0 && fixture.PublicRepositories is not null && !fixture.IsPublic(repository))
                Assert.True(message.StartsWith($"repository \"{repository}\" is not public") && message.EndsWith(Challenges.AuthenticationRequired), message);
            // No credentials on a private registry, for what anonymous pull would grant: it says anonymous pull is off and how to log in.
            else if (identity.Kind == CallerKind.NoCredentials && fixture.PublicRepositories is null
                && (endpoint.NeedsCatalog || endpoint.RequiredActions.Length > 0 && endpoint.RequiredActions.All(a => a is "pull" or "metadata_read")))
                Assert.Equal($"anonymous pull is disabled on registry {fixture.Server.RegistryName}: log in first (berth acr login -n {fixture.Server.RegistryName}, " +
                    $"or podman login {fixture.Server.Host}). {Challenges.AuthenticationRequired}", message);
            else
                Assert.Equal(Challenges.AuthenticationRequired, message);
            var detail = error.GetProperty("detail");
            var expectedDetail = endpoint.Detail(repository);
            if (expectedDetail.Count == 0)
            {
                Assert.Equal(JsonValueKind.Null, detail.ValueKind);
            }
            else
            {
                var actual = detail.EnumerateArray().Select(d =>
                {
                    Assert.Equal(["Type", "Name", "Action"], d.EnumerateObject().Select(p => p.Name).ToArray());
                    return (d.GetProperty("Type").GetString()!, d.GetProperty("Name").GetString()!, d.GetProperty("Action").GetString()!);
                }).ToList();
                Assert.Equal(expectedDetail, actual);
            }
        }
        if (arranged.VerifyDenied is not null)
            await arranged.VerifyDenied();
    }
}

/// <summary>The matrix against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class AuthorizationMatrixTests(AuthorizationMatrixFixture fixture, ITestOutputHelper output)
    : AuthorizationMatrixTests<AuthorizationMatrixFixture>(fixture, output);

/// <summary>The matrix in the scale-out configuration (PostgreSQL metadata, Azure Blob Storage blobs, download redirects on).</summary>
public sealed class AuthorizationMatrixOnScaleOutTests(ScaleOutAuthorizationMatrixFixture fixture, ITestOutputHelper output)
    : AuthorizationMatrixTests<ScaleOutAuthorizationMatrixFixture>(fixture, output);

/// <summary>The public matrix on the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class PublicAuthorizationMatrixOnSqliteTests(PublicAuthorizationMatrixFixture fixture)
    : PublicAuthorizationMatrixTests<PublicAuthorizationMatrixFixture>(fixture);

/// <summary>The public matrix in the scale-out configuration (PostgreSQL metadata, Azure Blob Storage blobs, download redirects on).</summary>
public sealed class PublicAuthorizationMatrixOnScaleOutTests(PublicScaleOutAuthorizationMatrixFixture fixture)
    : PublicAuthorizationMatrixTests<PublicScaleOutAuthorizationMatrixFixture>(fixture);
