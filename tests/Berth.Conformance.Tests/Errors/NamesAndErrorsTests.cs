using System.Net;
using System.Text.Json.Nodes;

namespace Berth.Conformance.Tests.Errors;

/// <summary>
/// Repository-name grammar (<c>[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*</c>),
/// path tricks, and the shape of error bodies. Paths here go out on a raw socket, exactly as written.
/// </summary>
public abstract class NamesAndErrorsTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    private static readonly string Overlong = "conformance/" + new string('a', 250);

    public static TheoryData<string> InvalidNamePaths => new()
    {
        "/v2/Conformance/Upper/manifests/latest",
        "/v2/conformance/UPPER/tags/list",
        $"/v2/{Overlong}/manifests/latest",
        "/v2/conformance//double/manifests/latest",
        "/v2/conformance/trailing//tags/list",
        "/v2/conformance/a..b/manifests/latest",
        "/v2/conformance/-lead/manifests/latest",
        "/v2/conformance/trail-/manifests/latest",
        "/v2/conformance/a___b/manifests/latest",
        "/v2/conformance/a.-b/manifests/latest",
        "/v2/conformance/back%5Cslash/blobs/sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "/v2/conformance/x%2F..%2F..%2Fescape/manifests/latest",
        "/v2/conformance/sp%20ace/tags/list",
        "/v2/conformance/%C3%A9/tags/list",
    };

    [Theory]
    [MemberData(nameof(InvalidNamePaths))]
    public async Task InvalidName_Returns400NameInvalid(string target)
    {
        var response = await RawHttp.SendAsync(registry, "GET", target);

        Assert.True(response.Status == 400, $"GET {target} -> {response}");
        Assert.Contains("NAME_INVALID", response.Body);
    }

    [Fact]
    public async Task EncodedSlashInName_IsASlash_AsAcrAndTheAzureSdksUseIt()
    {
        var repository = Repo.New("enc");
        await _client.PushBlobAsync(repository, Manifests.EmptyConfig);

        var response = await RawHttp.SendAsync(registry, "GET", $"/v2/{repository.Replace("/", "%2F")}/tags/list");

        Assert.True(response.Status == 200, $"GET tags/list with %2F -> {response}");
        Assert.Contains($"\"name\":\"{repository}\"", response.Body);
    }

    [Theory]
    [InlineData("/v2/Conformance/Upper/blobs/uploads/")]
    [InlineData("/v2/conformance/a..b/blobs/uploads/")]
    [InlineData("/v2/conformance/x%2F..%2F..%2Fescape/blobs/uploads/")]
    public async Task InvalidName_OnUploadStart_Returns400NameInvalid(string target)
    {
        var response = await RawHttp.SendAsync(registry, "POST", target);

        Assert.True(response.Status == 400, $"POST {target} -> {response}");
        Assert.Contains("NAME_INVALID", response.Body);
    }

    [Fact]
    public async Task InvalidName_OnManifestPut_Returns400NameInvalid()
    {
        var manifest = Manifests.OciImage(Manifests.Descriptor(MediaTypes.OciEmpty, Manifests.EmptyConfig), []);

        var response = await RawHttp.SendAsync(registry, "PUT", "/v2/conformance/x%2F..%2F..%2Fescape/manifests/v1",
            manifest.Bytes, MediaTypes.OciManifest);

        Assert.True(response.Status == 400, $"PUT -> {response}");
        Assert.Contains("NAME_INVALID", response.Body);
    }

    [Theory]
    [InlineData("/v2/conformance/%2e%2e/%2e%2e/manifests/latest")]
    [InlineData("/v2/%2e%2e/%2e%2e/%2e%2e/etc/passwd")]
    [InlineData("/v2/conformance/x/../../manifests/latest")]
    [InlineData("/v2/conformance/x/manifests/..%2F..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/v2/conformance/x/blobs/..%2F..%2Fsecret")]
    [InlineData("/v2/conformance/x/blobs/uploads/..%2F..%2Fsecret")]
    [InlineData("/v2/conformance/x/manifests/latest/")]
    public async Task DotSegmentAndEncodingTricks_AreRefused(string target)
    {
        var response = await RawHttp.SendAsync(registry, "GET", target);

        Assert.True(response.Status is >= 400 and < 500, $"GET {target} -> {response}");
        Assert.DoesNotContain("root:", response.Body);
    }

    [Fact]
    public async Task NameOf255Characters_IsAccepted()
    {
        var prefix = "conformance/" + Guid.NewGuid().ToString("N") + "/";
        var name = prefix + new string('n', 255 - prefix.Length);
        Assert.Equal(255, name.Length);

        using var response = await _client.PostMonolithicAsync(name, Content.Random(10));

        await response.ExpectAsync(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("a__b")]
    [InlineData("a--b")]
    [InlineData("a---b")]
    [InlineData("a.b/c_d/e-f")]
    [InlineData("0/1/2/3")]
    public async Task NamesAllowedByTheGrammar_AreAccepted(string suffix)
    {
        var name = Repo.New("names") + "/" + suffix;

        using var response = await _client.PostMonolithicAsync(name, Content.Random(10));

        await response.ExpectAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task ErrorBody_HasCodeMessageAndOptionalDetail()
    {
        using var response = await _client.GetAsync($"/v2/{Repo.New("errors")}/blobs/{Digests.Unknown()}");

        await response.ErrorAsync(HttpStatusCode.NotFound, "BLOB_UNKNOWN", "NAME_UNKNOWN");
        var json = await response.ReadJsonAsync();
        var error = Assert.IsType<JsonObject>(Assert.Single(Assert.IsType<JsonArray>(json["errors"])));
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        Assert.All(error.Select(p => p.Key), key => Assert.Contains(key, new[] { "code", "message", "detail" }));
    }

    [Fact]
    public async Task ErrorResponses_CarryTheApiVersionHeader()
    {
        using var response = await _client.GetAsync($"/v2/{Repo.New("errors")}/manifests/latest");

        await response.ExpectAsync(HttpStatusCode.NotFound);
        response.HasHeader("Docker-Distribution-Api-Version", "registry/2.0");
    }

    [Fact]
    public async Task UnsupportedMethod_OnAnEndpoint_Returns405()
    {
        var repo = Repo.New("errors");
        await _client.PushImageAsync(repo, "v1");

        using var response = await _client.SendAsync(HttpMethod.Post, $"/v2/{repo}/manifests/v1", RegistryClient.Bytes([]));

        await response.ExpectAsync(HttpStatusCode.MethodNotAllowed);
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class NamesAndErrorsTests(RegistryFixture registry) : NamesAndErrorsTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class NamesAndErrorsOnScaleOutTests(ScaleOutRegistryFixture registry) : NamesAndErrorsTests<ScaleOutRegistryFixture>(registry);
