using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Berth.Server.Tests.TokenService;

namespace Berth.Server.Tests.Access;

/// <summary>
/// A cross-repository mount needs pull on its source. A bearer token that lacks it is challenged for both
/// repositories, as distribution does; a token whose source scope the token service already refused uploads instead.
/// </summary>
public sealed class MountSourceScopeTests(BerthTestServer server) : IClassFixture<BerthTestServer>
{
    private static string NewName(string prefix) => $"mount/{prefix}-{Guid.NewGuid().ToString("N")[..10]}";

    [Fact]
    public async Task TokenWithoutTheSourceScope_Is401ChallengingForBothRepositories()
    {
        var (source, target, digest) = await ArrangeAsync();
        var token = await TokenTestSupport.GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword, $"repository:{target}:pull,push");

        using var response = await MountAsync(token, target, source, digest);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.Contains($"scope=\"repository:{target}:pull,push repository:{source}:pull\"", challenge);
        Assert.Contains("error=\"insufficient_scope\"", challenge);
        Assert.Equal(HttpStatusCode.NotFound, await BlobStatusAsync(target, digest));
    }

    [Fact]
    public async Task TokenForBothRepositories_Mounts201()
    {
        var (source, target, digest) = await ArrangeAsync();
        var token = await TokenTestSupport.GetAccessTokenAsync(server, server.AdminUsername, server.AdminPassword,
            $"repository:{target}:pull,push", $"repository:{source}:pull");

        using var response = await MountAsync(token, target, source, digest);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/v2/{target}/blobs/{digest}", response.Headers.Location?.ToString());
        Assert.Equal(digest, response.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(HttpStatusCode.OK, await BlobStatusAsync(target, digest));
    }

    [Fact]
    public async Task TokenWhoseSourceScopeWasRefused_StartsAPlainUpload202()
    {
        var (source, target, digest) = await ArrangeAsync();
        var tokenName = "mount-" + Guid.NewGuid().ToString("N")[..8];
        var password = await server.CreateTokenAsync(tokenName, tokenName + "-map", [$"repositories/{target}/content/read", $"repositories/{target}/content/write"]);
        var token = await TokenTestSupport.GetAccessTokenAsync(server, tokenName, password, $"repository:{target}:pull,push", $"repository:{source}:pull");
        Assert.DoesNotContain(TokenTestSupport.AccessOf(token), a => a.Name == source && a.Actions.Length > 0);

        using var response = await MountAsync(token, target, source, digest);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.StartsWith($"/v2/{target}/blobs/uploads/", response.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.NotFound, await BlobStatusAsync(target, digest));
    }

    private async Task<(string Source, string Target, string Digest)> ArrangeAsync()
    {
        var source = NewName("source");
        var digest = await server.Client.PushBlobAsync(source, RandomNumberGenerator.GetBytes(48));
        return (source, NewName("target"), digest);
    }

    private async Task<HttpResponseMessage> MountAsync(string token, string target, string source, string digest)
    {
        using var client = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        return await client.PostAsync($"/v2/{target}/blobs/uploads/?mount={digest}&from={source}", null);
    }

    private async Task<HttpStatusCode> BlobStatusAsync(string repository, string digest)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}");
        using var response = await server.Client.SendAsync(request);
        return response.StatusCode;
    }
}
