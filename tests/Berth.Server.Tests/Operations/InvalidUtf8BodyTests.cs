using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Berth.Server.Operations;
using Berth.Core.Management;
using Berth.Server.Tests.Management;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Server.Tests.Operations;

/// <summary>
/// JSON bodies whose strings are not valid UTF-8 (a stray 0xff): every surface refuses them with a 400 in its own
/// error shape, changes nothing, and the audit trail records the refusal rather than a success.
/// </summary>
public sealed class InvalidUtf8BodyTests(AuditedBerthTestServer server) : IClassFixture<AuditedBerthTestServer>
{
    /// <summary>UTF-8 of <paramref name="json"/> with every <c>{FF}</c> replaced by the single byte 0xff.</summary>
    private static byte[] WithInvalidByte(string json) =>
        [.. json.Split("{FF}").Select(Encoding.UTF8.GetBytes).Aggregate((a, b) => [.. a, 0xff, .. b])];

    private static ByteArrayContent Json(byte[] body, string mediaType = "application/json")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    private static async Task<JsonNode> AssertBadRequestAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static void AssertArmError(JsonNode body, string code)
    {
        Assert.Equal(code, body["error"]!["code"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["error"]!["message"]!.GetValue<string>()));
    }

    private void AssertAuditedAs(string method, string path, int status)
    {
        var changes = server.Logs.Entries.Where(e => e.Category == Audit.Category && e.Event.Name == "ManagementChange"
            && e.Message.Contains($"{method} {path} ->")).Select(e => e.Message).ToList();
        Assert.Single(changes);
        Assert.Contains($"-> {status} ", changes[0]);
    }

    [Fact]
    public async Task ManifestPut_InvalidUtf8InAnnotation_Returns400ManifestInvalid_AndStoresNothing()
    {
        var repository = "utf8/manifest-" + Guid.NewGuid().ToString("N")[..8];
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        var configDigest = await server.Client.PushBlobAsync(repository, config);
        var manifest = WithInvalidByte(
            $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},\"layers\":[],\"annotations\":{{\"note\":\"caf{{FF}}\"}}}}");

        using var put = await server.Client.PutAsync($"/v2/{repository}/manifests/v1", Json(manifest, "application/vnd.oci.image.manifest.v1+json"));
        var body = await AssertBadRequestAsync(put);
        Assert.Equal("MANIFEST_INVALID", body["errors"]![0]!["code"]!.GetValue<string>());

        using var get = await server.Client.GetAsync($"/v2/{repository}/manifests/v1");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        using var byDigest = await server.Client.GetAsync($"/v2/{repository}/manifests/{TestImage.DigestOf(manifest)}");
        Assert.Equal(HttpStatusCode.NotFound, byDigest.StatusCode);
    }

    [Fact]
    public async Task AcrApiPatch_InvalidUtf8InAnyString_Returns400_AndChangesNothing()
    {
        var repository = "utf8/acr-" + Guid.NewGuid().ToString("N")[..8];
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"n\":\"" + repository + "\"}");
        var configDigest = await server.Client.PushBlobAsync(repository, config);
        await server.Client.PushManifestAsync(repository, "v1", Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},\"layers\":[]}}"));

        using var patch = await server.Client.PatchAsync($"/acr/v1/{repository}", Json(WithInvalidByte("""{"writeEnabled":false,"note":"{FF}"}""")));
        var body = await AssertBadRequestAsync(patch);
        Assert.False(string.IsNullOrEmpty(body["errors"]![0]!["code"]!.GetValue<string>()));

        using var after = await server.Client.GetAsync($"/acr/v1/{repository}");
        var attributes = JsonNode.Parse(await after.Content.ReadAsStringAsync())!["changeableAttributes"]!;
        Assert.True(attributes["writeEnabled"]!.GetValue<bool>());
    }

    [Fact]
    public async Task ArmRegistryPatch_InvalidUtf8InTag_Returns400_ChangesNothing_AndAuditsThe400()
    {
        using var client = await server.CreateManagementClientAsync();
        var name = Arm.NewRegistryName("utf");
        await client.CreateRegistryAsync(server, name);
        var path = server.RegistryPath(name);

        using var patch = await client.PatchAsync(path + "?api-version=2023-07-01",
            Json(WithInvalidByte("""{"tags":{"team":"a{FF}b"},"properties":{"adminUserEnabled":true}}""")));
        AssertArmError(await AssertBadRequestAsync(patch), "InvalidRequestContent");

        var registry = await client.GetJsonAsync(path);
        Assert.False(registry["properties"]!["adminUserEnabled"]!.GetValue<bool>());
        Assert.True(registry["tags"] is null || registry["tags"]!.AsObject().Count == 0);
        AssertAuditedAs("PATCH", path, 400);
    }

    [Fact]
    public async Task ScopeMapPut_InvalidUtf8InDescription_Returns400_AndCreatesNothing()
    {
        using var client = await server.CreateManagementClientAsync();
        var path = server.RegistryPath(server.RegistryName) + "/scopeMaps/utf" + Guid.NewGuid().ToString("N")[..6];

        using var put = await client.PutAsync(path + "?api-version=2023-07-01",
            Json(WithInvalidByte("""{"properties":{"description":"d{FF}","actions":["repositories/a/content/read"]}}""")));
        AssertArmError(await AssertBadRequestAsync(put), "InvalidRequestContent");

        using var get = await client.GetAsync(path + "?api-version=2023-07-01");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        AssertAuditedAs("PUT", path, 400);
    }

    [Fact]
    public async Task TokenPut_InvalidUtf8InStatus_Returns400_AndCreatesNothing()
    {
        using var client = await server.CreateManagementClientAsync();
        var registry = server.RegistryPath(server.RegistryName);
        var path = registry + "/tokens/utf" + Guid.NewGuid().ToString("N")[..6];

        using var put = await client.PutAsync(path + "?api-version=2023-07-01",
            Json(WithInvalidByte("{\"properties\":{\"scopeMapId\":\"" + registry + "/scopeMaps/_repositories_pull\",\"status\":\"enabled{FF}\"}}")));
        AssertArmError(await AssertBadRequestAsync(put), "InvalidRequestContent");

        using var get = await client.GetAsync(path + "?api-version=2023-07-01");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        AssertAuditedAs("PUT", path, 400);
    }

    [Fact]
    public async Task ManagementBearerToken_InvalidUtf8InHeader_Returns401()
    {
        static string Part(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var token = Part(WithInvalidByte("""{"alg":"RS{FF}","kid":"k"}""")) + "." + Part(Encoding.UTF8.GetBytes("{}")) + ".c2ln";
        using var client = server.CreateClient(new AuthenticationHeaderValue("Bearer", token));
        using var response = await client.GetAsync("/subscriptions?api-version=2022-12-01");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

/// <summary>The audit filter on its own: what it records when a handler throws instead of answering.</summary>
public sealed class AuditFinalStatusTests
{
    [Fact]
    public async Task ManagementChange_WhenTheHandlerThrows_IsRecordedAs500()
    {
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(logs))
            .BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = "PATCH";
        context.Request.Path = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/r";
        context.Features.Set(new ManagementCaller("client", "owner", ManagementRole.Owner, "tenant"));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Audit.RecordManagementChangesAsync(
            new DefaultEndpointFilterInvocationContext(context), _ => throw new InvalidOperationException("a bug")));

        var change = Assert.Single(logs.Entries, e => e.Event.Name == "ManagementChange");
        Assert.Contains("PATCH /subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/r -> 500 ", change.Message);
    }
}
