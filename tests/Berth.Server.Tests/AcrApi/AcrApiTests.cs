using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Berth.Server.Tests.AcrApi;

/// <summary>ACR's /acr/v1 repository API: shapes, pagination, attributes and their enforcement on /v2, deletion.</summary>
public sealed class AcrApiTests(BerthTestServer server) : IClassFixture<BerthTestServer>
{
    private static string NewRepository() => "acr/repo-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Catalog_ListsRepositories()
    {
        var repository = NewRepository();
        await PushImageAsync(repository, "v1");
        using var document = await GetJsonAsync("/acr/v1/_catalog?n=10000");
        Assert.Contains(repository, document.RootElement.GetProperty("repositories").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Repository_ShowsCountsAndDefaultAttributes()
    {
        var repository = NewRepository();
        await PushImageAsync(repository, "v1");
        await PushImageAsync(repository, "v2");
        using var document = await GetJsonAsync($"/acr/v1/{repository}");
        var root = document.RootElement;
        Assert.Equal(server.LoginServer, root.GetProperty("registry").GetString());
        Assert.Equal(repository, root.GetProperty("imageName").GetString());
        Assert.Equal(2, root.GetProperty("manifestCount").GetInt32());
        Assert.Equal(2, root.GetProperty("tagCount").GetInt32());
        Assert.True(DateTimeOffset.TryParse(root.GetProperty("createdTime").GetString(), out _));
        AssertAttributes(root.GetProperty("changeableAttributes"), true, true, true, true);
    }

    [Fact]
    public async Task Tags_ListWithDetailsAndPaginateWithLink()
    {
        var repository = NewRepository();
        var digests = new Dictionary<string, string>();
        foreach (var tag in new[] { "a", "b", "c" }) digests[tag] = await PushImageAsync(repository, tag);

        using var first = await server.Client.GetAsync($"/acr/v1/{repository}/_tags?n=2");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal($"</acr/v1/{repository}/_tags?n=2&last=b>; rel=\"next\"", first.Headers.GetValues("Link").Single());
        using var page = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        var tags = page.RootElement.GetProperty("tags").EnumerateArray().ToList();
        Assert.Equal(["a", "b"], tags.Select(t => t.GetProperty("name").GetString()));
        Assert.Equal(digests["a"], tags[0].GetProperty("digest").GetString());
        Assert.False(tags[0].GetProperty("signed").GetBoolean());

        using var rest = await GetJsonAsync($"/acr/v1/{repository}/_tags?n=2&last=b");
        Assert.Equal(["c"], rest.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Tags_OrderByTimeDescending_PutsNewestFirst()
    {
        var repository = NewRepository();
        await PushImageAsync(repository, "zz-old");
        await Task.Delay(5);
        await PushImageAsync(repository, "aa-new");
        using var document = await GetJsonAsync($"/acr/v1/{repository}/_tags?orderby=timedesc");
        Assert.Equal(["aa-new", "zz-old"], document.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task TagAndManifest_ShowTheirDetails()
    {
        var repository = NewRepository();
        var digest = await PushImageAsync(repository, "v1");
        using var tag = await GetJsonAsync($"/acr/v1/{repository}/_tags/v1");
        Assert.Equal(digest, tag.RootElement.GetProperty("tag").GetProperty("digest").GetString());

        using var manifest = await GetJsonAsync($"/acr/v1/{repository}/_manifests/{digest}");
        var entry = manifest.RootElement.GetProperty("manifest");
        Assert.Equal(digest, entry.GetProperty("digest").GetString());
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", entry.GetProperty("mediaType").GetString());
        Assert.Equal("application/vnd.oci.image.config.v1+json", entry.GetProperty("configMediaType").GetString());
        Assert.Equal(["v1"], entry.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        using var list = await GetJsonAsync($"/acr/v1/{repository}/_manifests");
        Assert.Equal(digest, Assert.Single(list.RootElement.GetProperty("manifests").EnumerateArray()).GetProperty("digest").GetString());
    }

    [Fact]
    public async Task UnknownRepositoryAndTag_Return404()
    {
        using var repository = await server.Client.GetAsync($"/acr/v1/{NewRepository()}");
        Assert.Equal(HttpStatusCode.NotFound, repository.StatusCode);
        Assert.Contains("NAME_UNKNOWN", await repository.Content.ReadAsStringAsync());

        var existing = NewRepository();
        await PushImageAsync(existing, "v1");
        using var tag = await server.Client.GetAsync($"/acr/v1/{existing}/_tags/nope");
        Assert.Equal(HttpStatusCode.NotFound, tag.StatusCode);
        Assert.Contains("TAG_UNKNOWN", await tag.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LockedTag_CannotBeOverwrittenOrDeleted_UntilUnlocked()
    {
        var repository = NewRepository();
        var original = await PushImageAsync(repository, "release");
        using (var patch = await PatchAsync($"/acr/v1/{repository}/_tags/release", """{"writeEnabled":false}"""))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
            using var body = JsonDocument.Parse(await patch.Content.ReadAsStringAsync());
            AssertAttributes(body.RootElement.GetProperty("tag").GetProperty("changeableAttributes"), true, false, true, true);
        }

        var overwrite = await TryPushImageAsync(repository, "release");
        Assert.Equal(HttpStatusCode.Forbidden, overwrite.Status);
        Assert.Contains("DENIED", overwrite.Body);
        using (var delete = await server.Client.DeleteAsync($"/v2/{repository}/manifests/release"))
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        using (var deleteByDigest = await server.Client.DeleteAsync($"/v2/{repository}/manifests/{original}"))
            Assert.Equal(HttpStatusCode.Forbidden, deleteByDigest.StatusCode);
        using (var still = await GetJsonAsync($"/acr/v1/{repository}/_tags/release"))
            Assert.Equal(original, still.RootElement.GetProperty("tag").GetProperty("digest").GetString());

        using (var unlock = await PatchAsync($"/acr/v1/{repository}/_tags/release", """{"writeEnabled":true}"""))
            Assert.Equal(HttpStatusCode.OK, unlock.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await TryPushImageAsync(repository, "release")).Status);
    }

    [Fact]
    public async Task RepositoryWithWritesDisabled_RefusesUploads()
    {
        var repository = NewRepository();
        await PushImageAsync(repository, "v1");
        using (var patch = await PatchAsync($"/acr/v1/{repository}", """{"writeEnabled":false}"""))
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        using var upload = await server.Client.PostAsync($"/v2/{repository}/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
    }

    [Fact]
    public async Task ManifestWithReadsDisabled_CannotBePulled()
    {
        var repository = NewRepository();
        var digest = await PushImageAsync(repository, "v1");
        using (var patch = await PatchAsync($"/acr/v1/{repository}/_manifests/{digest}", """{"readEnabled":false}"""))
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        using var pull = await server.Client.GetAsync($"/v2/{repository}/manifests/v1");
        Assert.Equal(HttpStatusCode.Forbidden, pull.StatusCode);
    }

    [Fact]
    public async Task TagWithListingDisabled_IsHiddenFromTheListing()
    {
        var repository = NewRepository();
        await PushImageAsync(repository, "shown");
        await PushImageAsync(repository, "hidden");
        using (var patch = await PatchAsync($"/acr/v1/{repository}/_tags/hidden", """{"listEnabled":false}"""))
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        using var document = await GetJsonAsync($"/acr/v1/{repository}/_tags");
        Assert.Equal(["shown"], document.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task HiddenTagsInsideAPage_NeitherShortenItNorEndThePaging()
    {
        var repository = NewRepository();
        foreach (var tag in new[] { "a", "b", "c", "d", "e" }) await PushImageAsync(repository, tag);
        foreach (var hidden in new[] { "b", "c" })
        {
            using var patch = await PatchAsync($"/acr/v1/{repository}/_tags/{hidden}", """{"listEnabled":false}""");
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        using var first = await server.Client.GetAsync($"/acr/v1/{repository}/_tags?n=2");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var page = JsonDocument.Parse(await first.Content.ReadAsStringAsync()))
            Assert.Equal(["a", "d"], page.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal($"</acr/v1/{repository}/_tags?n=2&last=d>; rel=\"next\"", first.Headers.GetValues("Link").Single());

        using var rest = await server.Client.GetAsync($"/acr/v1/{repository}/_tags?n=2&last=d");
        using (var page = JsonDocument.Parse(await rest.Content.ReadAsStringAsync()))
            Assert.Equal(["e"], page.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.False(rest.Headers.Contains("Link"));
    }

    [Fact]
    public async Task MalformedPatch_Returns400AndChangesNothing()
    {
        var repository = NewRepository();
        await PushImageAsync(repository, "v1");
        using var patch = await PatchAsync($"/acr/v1/{repository}", """{"writeEnabled":"no"}""");
        Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        using var document = await GetJsonAsync($"/acr/v1/{repository}");
        AssertAttributes(document.RootElement.GetProperty("changeableAttributes"), true, true, true, true);
    }

    [Fact]
    public async Task UntagThroughAcrApi_RemovesOnlyTheTag()
    {
        var repository = NewRepository();
        var digest = await PushImageAsync(repository, "v1");
        using var delete = await server.Client.DeleteAsync($"/acr/v1/{repository}/_tags/v1");
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using (var tag = await server.Client.GetAsync($"/v2/{repository}/manifests/v1"))
            Assert.Equal(HttpStatusCode.NotFound, tag.StatusCode);
        using var byDigest = await server.Client.GetAsync($"/v2/{repository}/manifests/{digest}");
        Assert.Equal(HttpStatusCode.OK, byDigest.StatusCode);
    }

    [Fact]
    public async Task DeleteManifestThroughAcrApi_RemovesItAndItsTags_AndHonoursTheLock()
    {
        var repository = NewRepository();
        var digest = await PushImageAsync(repository, "v1");
        using (var locked = await PatchAsync($"/acr/v1/{repository}/_manifests/{digest}", """{"deleteEnabled":false}"""))
            Assert.Equal(HttpStatusCode.OK, locked.StatusCode);
        using (var refused = await server.Client.DeleteAsync($"/acr/v1/{repository}/_manifests/{digest}"))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode); // DENIED, as a /v2 DELETE of locked content gets
        using (var unlocked = await PatchAsync($"/acr/v1/{repository}/_manifests/{digest}", """{"deleteEnabled":true}"""))
            Assert.Equal(HttpStatusCode.OK, unlocked.StatusCode);

        using var delete = await server.Client.DeleteAsync($"/acr/v1/{repository}/_manifests/{digest}");

        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        foreach (var reference in new[] { "v1", digest })
        {
            using var gone = await server.Client.GetAsync($"/v2/{repository}/manifests/{reference}");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        using var again = await server.Client.DeleteAsync($"/acr/v1/{repository}/_manifests/{digest}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task DeleteRepository_RemovesEverythingAndReportsIt()
    {
        var repository = NewRepository();
        var digest = await PushImageAsync(repository, "v1");
        using var delete = await server.Client.DeleteAsync($"/acr/v1/{repository}");
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using (var body = JsonDocument.Parse(await delete.Content.ReadAsStringAsync()))
        {
            Assert.Equal([digest], body.RootElement.GetProperty("manifestsDeleted").EnumerateArray().Select(d => d.GetString()));
            Assert.Equal(["v1"], body.RootElement.GetProperty("tagsDeleted").EnumerateArray().Select(d => d.GetString()));
        }
        using (var tags = await server.Client.GetAsync($"/v2/{repository}/tags/list"))
            Assert.Equal(HttpStatusCode.NotFound, tags.StatusCode);
        using var again = await server.Client.DeleteAsync($"/acr/v1/{repository}");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Theory]
    [InlineData("deleteEnabled")]
    [InlineData("writeEnabled")]
    public async Task DeleteRepository_HoldingALockedTag_IsRefusedNamingIt_AndDeletesNothing(string attribute)
    {
        var repository = NewRepository();
        var locked = await PushImageAsync(repository, "release");
        var other = await PushImageAsync(repository, "dev");
        using (var patch = await PatchAsync($"/acr/v1/{repository}/_tags/release", $$"""{"{{attribute}}":false}"""))
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        using var delete = await server.Client.DeleteAsync($"/acr/v1/{repository}");

        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        var error = await ReadErrorAsync(delete);
        Assert.Equal("DENIED", error.Code);
        Assert.Contains("locked", error.Message);
        Assert.Contains("tag release", error.Message);
        Assert.Contains($"{attribute}=false", error.Message);
        await AssertPullableAsync(repository, ("release", locked), ("dev", other));
    }

    [Fact]
    public async Task DeleteRepository_HoldingALockedUntaggedManifest_IsRefusedNamingIt()
    {
        var repository = NewRepository();
        var untagged = await PushImageAsync(repository, "v1");
        var current = await PushImageAsync(repository, "v1"); // v1 moves on; the first manifest keeps no tag
        using (var patch = await PatchAsync($"/acr/v1/{repository}/_manifests/{untagged}", """{"deleteEnabled":false}"""))
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        using var delete = await server.Client.DeleteAsync($"/acr/v1/{repository}");

        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Contains($"manifest {untagged}", (await ReadErrorAsync(delete)).Message);
        await AssertPullableAsync(repository, ("v1", current), (untagged, untagged));
    }

    [Fact]
    public async Task DeleteRepository_WithDeleteDisabledOnTheRepository_IsRefused_UntilEnabled()
    {
        var repository = NewRepository();
        var digest = await PushImageAsync(repository, "v1");
        using (var patch = await PatchAsync($"/acr/v1/{repository}", """{"deleteEnabled":false}"""))
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        using (var refused = await server.Client.DeleteAsync($"/acr/v1/{repository}"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains($"repository {repository} is locked", (await ReadErrorAsync(refused)).Message);
        }
        await AssertPullableAsync(repository, ("v1", digest));

        using (var patch = await PatchAsync($"/acr/v1/{repository}", """{"deleteEnabled":true}"""))
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        using var delete = await server.Client.DeleteAsync($"/acr/v1/{repository}");
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
    }

    [Fact]
    public async Task UntagThroughAcrApi_OfALockedTag_IsRefused()
    {
        var repository = NewRepository();
        var digest = await PushImageAsync(repository, "release");
        using (var patch = await PatchAsync($"/acr/v1/{repository}/_tags/release", """{"deleteEnabled":false}"""))
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        using var delete = await server.Client.DeleteAsync($"/acr/v1/{repository}/_tags/release");

        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Equal("DENIED", (await ReadErrorAsync(delete)).Code);
        await AssertPullableAsync(repository, ("release", digest));
    }

    [Fact]
    public async Task DeleteManifest_WithADeleteLockedTagOnIt_IsRefusedOnBothApis()
    {
        var repository = NewRepository();
        var digest = await PushImageAsync(repository, "release");
        using (var patch = await PatchAsync($"/acr/v1/{repository}/_tags/release", """{"deleteEnabled":false}"""))
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);

        foreach (var path in new[] { $"/v2/{repository}/manifests/{digest}", $"/acr/v1/{repository}/_manifests/{digest}" })
        {
            using var delete = await server.Client.DeleteAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
            Assert.Contains("tag release is locked", (await ReadErrorAsync(delete)).Message);
        }
        await AssertPullableAsync(repository, ("release", digest));
    }

    [Theory]
    [InlineData("GET", "", "metadata_read")]
    [InlineData("GET", "/_tags", "metadata_read")]
    [InlineData("PATCH", "", "metadata_write")]
    [InlineData("DELETE", "", "delete")]
    public async Task WithoutCredentials_ChallengesWithTheScopeAcrUses(string method, string suffix, string action)
    {
        using var client = server.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/acr/v1/some/repo{suffix}");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains($"scope=\"repository:some/repo:{action}\"", response.Headers.WwwAuthenticate.ToString());
    }

    private static async Task<(string Code, string Message)> ReadErrorAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = document.RootElement.GetProperty("errors")[0];
        return (error.GetProperty("code").GetString()!, error.GetProperty("message").GetString()!);
    }

    /// <summary>Each reference still resolves to its manifest, and the repository still exists.</summary>
    private async Task AssertPullableAsync(string repository, params (string Reference, string Digest)[] expected)
    {
        foreach (var (reference, digest) in expected)
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/manifests/{reference}");
            request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
            using var response = await server.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(digest, response.Headers.GetValues("Docker-Content-Digest").Single());
        }
        using var details = await server.Client.GetAsync($"/acr/v1/{repository}");
        Assert.Equal(HttpStatusCode.OK, details.StatusCode);
    }

    private static void AssertAttributes(JsonElement attributes, bool delete, bool write, bool read, bool list) =>
        Assert.Equal((delete, write, read, list), (attributes.GetProperty("deleteEnabled").GetBoolean(), attributes.GetProperty("writeEnabled").GetBoolean(),
            attributes.GetProperty("readEnabled").GetBoolean(), attributes.GetProperty("listEnabled").GetBoolean()));

    private async Task<JsonDocument> GetJsonAsync(string path)
    {
        using var response = await server.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> PatchAsync(string path, string json) =>
        server.Client.PatchAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task<string> PushImageAsync(string repository, string tag)
    {
        var (status, body, digest) = await TryPushImageAsync(repository, tag);
        Assert.True(status == HttpStatusCode.Created, body);
        return digest;
    }

    /// <summary>Pushes a one-layer image with unique content under <paramref name="tag"/>.</summary>
    private async Task<(HttpStatusCode Status, string Body, string Digest)> TryPushImageAsync(string repository, string tag)
    {
        var layer = RandomNumberGenerator.GetBytes(64);
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        var layerDigest = await server.Client.PushBlobAsync(repository, layer);
        var configDigest = await server.Client.PushBlobAsync(repository, config);
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{layerDigest}\",\"size\":{layer.Length}}}]}}");
        using var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var response = await server.Client.PutAsync($"/v2/{repository}/manifests/{tag}", content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest)));
    }
}
