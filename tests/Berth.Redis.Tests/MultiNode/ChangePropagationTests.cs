using System.Net;
using Berth.Redis.Tests.Infrastructure;

namespace Berth.Redis.Tests.MultiNode;

/// <summary>Both nodes with default throttling, except that one anonymous address may use all of the anonymous budget.</summary>
public sealed class PropagationNodes : TwoNodes
{
    protected override IEnumerable<string> ExtraArguments => ["--Berth:Throttling:AnonymousShare=0.5", "--Berth:Throttling:AnonymousPerAddressShare=0.5"];
}

/// <summary>
/// A change acknowledged by node A applies to node B's very next request: no waiting, no retries. Each test first makes
/// B cache what the change will alter (by using it), so a B that missed the change would answer from its cache.
/// </summary>
public sealed class ChangePropagationTests(PropagationNodes nodes) : IClassFixture<PropagationNodes>
{
    private RedisNode A => nodes.A;
    private RedisNode B => nodes.B;

    [Fact]
    public async Task AnonymousPullSwitchedOffThroughA_BRefusesTheNextAnonymousPull()
    {
        var image = new TestImage();
        await A.Client.PushImageAsync("anon/hello", image, "1");
        await nodes.SetAnonymousPullThroughAAsync(true);
        var issued = await TwoNodes.GetAccessTokenOrNullAsync(B, "repository:anon/hello:pull");
        Assert.NotNull(issued);
        using var anonymousOnB = B.CreateClient(TwoNodes.Bearer(issued!));
        using (var pulled = await anonymousOnB.GetAsync("/v2/anon/hello/manifests/1"))
            Assert.Equal(HttpStatusCode.OK, pulled.StatusCode);

        await nodes.SetAnonymousPullThroughAAsync(false);

        Assert.Null(await TwoNodes.GetAccessTokenOrNullAsync(B, "repository:anon/hello:pull"));
        using (var refused = await anonymousOnB.GetAsync("/v2/anon/hello/manifests/1"))
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

        await nodes.SetAnonymousPullThroughAAsync(true);

        using (var allowed = await anonymousOnB.GetAsync("/v2/anon/hello/manifests/1"))
            Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.NotNull(await TwoNodes.GetAccessTokenOrNullAsync(B, "repository:anon/hello:pull"));
        await nodes.SetAnonymousPullThroughAAsync(false);
    }

    [Fact]
    public async Task TokenDisabledThroughA_BRejectsItsPasswordAndItsIssuedTokensOnTheNextRequest()
    {
        await A.Client.PushImageAsync("tokens/disabled", new TestImage(), "1");
        var (tokenPath, password) = await CreateTokenThroughAAsync("disabledtoken");
        var basic = BerthTestServer.BasicAuthorization("disabledtoken", password);
        var issued = await TwoNodes.GetAccessTokenOrNullAsync(B, "repository:tokens/disabled:pull", basic);
        Assert.NotNull(issued);
        using var basicOnB = B.CreateClient(basic);
        using var bearerOnB = B.CreateClient(TwoNodes.Bearer(issued!));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(basicOnB, "/v2/tokens/disabled/manifests/1"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(bearerOnB, "/v2/tokens/disabled/manifests/1"));

        using (var management = await A.CreateManagementClientAsync())
            await TwoNodes.ArmAsync(management, HttpMethod.Patch, tokenPath, new { properties = new { status = "disabled" } });

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(basicOnB, "/v2/tokens/disabled/manifests/1"));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(bearerOnB, "/v2/tokens/disabled/manifests/1"));
        Assert.Null(await TwoNodes.GetAccessTokenOrNullAsync(B, "repository:tokens/disabled:pull", basic));
    }

    [Fact]
    public async Task TokenPasswordRegeneratedThroughA_BRejectsTheOldPasswordAndAcceptsTheNewOne()
    {
        await A.Client.PushImageAsync("tokens/regenerated", new TestImage(), "1");
        var (tokenPath, oldPassword) = await CreateTokenThroughAAsync("regentoken");
        using var oldOnB = B.CreateClient(BerthTestServer.BasicAuthorization("regentoken", oldPassword));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(oldOnB, "/v2/tokens/regenerated/manifests/1"));

        var newPassword = await GeneratePasswordThroughAAsync(tokenPath);

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(oldOnB, "/v2/tokens/regenerated/manifests/1"));
        using var newOnB = B.CreateClient(BerthTestServer.BasicAuthorization("regentoken", newPassword));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(newOnB, "/v2/tokens/regenerated/manifests/1"));
    }

    [Fact]
    public async Task TagMovedThroughA_BServesTheNewManifest()
    {
        var first = new TestImage();
        await A.Client.PushImageAsync("tags/moving", first, "latest");
        Assert.Equal(first.ManifestDigest, await DigestOnBAsync("tags/moving", "latest"));

        var second = new TestImage();
        await A.Client.PushImageAsync("tags/moving", second, "latest");

        Assert.Equal(second.ManifestDigest, await DigestOnBAsync("tags/moving", "latest"));

        using (var deleted = await A.Client.DeleteAsync($"/v2/tags/moving/manifests/{second.ManifestDigest}"))
            Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(B.Client, "/v2/tags/moving/manifests/latest"));
    }

    [Fact]
    public async Task RegistryCreatedThroughA_BRoutesItsLoginServer()
    {
        using var management = await A.CreateManagementClientAsync();
        // B resolves the login server while it names no registry yet, so B's map of login servers is cached without it.
        using (var unknown = B.CreateClient())
            await StatusAsync(unknown, "/v2/", "newregistry1." + LoginServerSuffix());

        await TwoNodes.ArmAsync(management, HttpMethod.Put, A.RegistryPath("newregistry1"), new
        {
            location = "local",
            sku = new { name = "Standard" },
            properties = new { adminUserEnabled = false, anonymousPullEnabled = true },
        });

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/oauth2/token?service=newregistry1.{LoginServerSuffix()}&scope=registry:catalog:*");
        request.Headers.Host = "newregistry1." + LoginServerSuffix();
        using var anonymous = B.CreateClient();
        using var response = await anonymous.SendAsync(request);
        // Anonymous pull is on in the new registry only: the default registry would have refused the token.
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private string LoginServerSuffix() => A.LoginServer[(A.LoginServer.IndexOf('.') + 1)..];

    private async Task<(string TokenPath, string Password)> CreateTokenThroughAAsync(string name)
    {
        using var management = await A.CreateManagementClientAsync();
        var registryPath = A.RegistryPath(A.RegistryName);
        var tokenPath = $"{registryPath}/tokens/{name}";
        await TwoNodes.ArmAsync(management, HttpMethod.Put, tokenPath,
            new { properties = new { scopeMapId = $"{registryPath}/scopeMaps/_repositories_pull", status = "enabled" } });
        return (tokenPath, await GeneratePasswordThroughAAsync(tokenPath));
    }

    private async Task<string> GeneratePasswordThroughAAsync(string tokenPath)
    {
        using var management = await A.CreateManagementClientAsync();
        var registryPath = tokenPath[..tokenPath.IndexOf("/tokens/", StringComparison.Ordinal)];
        var generated = await TwoNodes.ArmAsync(management, HttpMethod.Post, registryPath + "/generateCredentials", new { tokenId = tokenPath, name = "password1" });
        return generated!["passwords"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "password1")!["value"]!.GetValue<string>();
    }

    private async Task<string?> DigestOnBAsync(string repository, string tag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd(TestImage.ManifestMediaType);
        using var response = await B.Client.SendAsync(request);
        await RegistryHttp.EnsureStatusAsync(response, HttpStatusCode.OK, $"pulling {repository}:{tag} from B");
        return response.Headers.GetValues("Docker-Content-Digest").Single();
    }

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path, string? host = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (host is not null) request.Headers.Host = host;
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
