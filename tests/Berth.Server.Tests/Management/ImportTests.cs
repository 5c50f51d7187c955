using System.Net;
using System.Text.Json.Nodes;

namespace Berth.Server.Tests.Management;

/// <summary>
/// <c>POST registries/{r}/importImage</c> in process: ARM's long-running shape (202, <c>Azure-AsyncOperation</c>,
/// <c>Location</c>, <c>Retry-After</c>, the operation status resource), failures reported through it, and every bad
/// request refused at once with ARM's error before anything starts; on SQLite and PostgreSQL. The real az drives it in
/// Berth.Azure.Tests.
/// </summary>
public abstract class ImportTests<TServer>(TServer server) where TServer : BerthTestServer
{
    [Fact]
    public async Task ImportImage_IsALongRunningOperation_ThatAzCanPollToSuccess()
    {
        var image = new TestImage();
        await server.Client.PushImageAsync("lro/source", image, "v1");
        using var client = await server.CreateManagementClientAsync();
        var registry = server.RegistryPath(server.RegistryName);

        var (status, _, response) = await client.SendAsync(HttpMethod.Post, registry + "/importImage", Body(new JsonObject { ["resourceId"] = registry, ["sourceImage"] = "lro/source:v1" }, "lro/copy:v1"));
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        var operation = new Uri(response.Headers.GetValues("Azure-AsyncOperation").Single());
        var location = response.Headers.Location!;
        Assert.Equal(server.BaseAddress.Authority, operation.Authority);

        var final = await PollAsync(client, operation);
        Assert.Equal("Succeeded", final["status"]!.GetValue<string>());
        Assert.NotNull(final["startTime"]);
        Assert.NotNull(final["endTime"]);
        Assert.Equal(image.ManifestDigest, final["properties"]!["digest"]!.GetValue<string>());
        Assert.Equal(2, final["properties"]!["blobsMounted"]!.GetValue<int>());
        Assert.Equal(0, final["properties"]!["blobsCopied"]!.GetValue<int>());

        var (resultStatus, resultBody, _) = await client.SendAsync(HttpMethod.Get, location.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, resultStatus);
        Assert.Equal("Succeeded", resultBody!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, await Arm.GetManifestStatusAsync(server.Client, server.Host, null, "lro/copy", "v1"));
    }

    [Fact]
    public async Task ImportImage_OfAMissingImage_FailsThroughTheOperation_WithArmsError()
    {
        using var client = await server.CreateManagementClientAsync();
        var registry = server.RegistryPath(server.RegistryName);
        var (status, _, response) = await client.SendAsync(HttpMethod.Post, registry + "/importImage", Body(new JsonObject { ["resourceId"] = registry, ["sourceImage"] = "lro/nothing:v1" }, "lro/nothing:v1"));
        Assert.Equal(HttpStatusCode.Accepted, status);

        var final = await PollAsync(client, new Uri(response.Headers.GetValues("Azure-AsyncOperation").Single()));
        Assert.Equal("Failed", final["status"]!.GetValue<string>());
        Assert.Equal("NotFound", final["error"]!["code"]!.GetValue<string>());
        Assert.Contains("lro/nothing:v1", final["error"]!["message"]!.GetValue<string>());
        Assert.Equal("NotFound", Arm.AssertArmError(HttpStatusCode.NotFound, await client.SendAsync(HttpMethod.Get, response.Headers.Location!.PathAndQuery)));
    }

    public static TheoryData<string, string, HttpStatusCode, string> BadRequests => new()
    {
        { "no source", """{"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "InvalidParameter" },
        { "no sourceImage", """{"source":{"registryUri":"registry.example.test"},"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "InvalidParameter" },
        { "bad sourceImage", """{"source":{"registryUri":"registry.example.test","sourceImage":"UPPER/case:v1"},"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "InvalidParameter" },
        { "bad digest", """{"source":{"registryUri":"registry.example.test","sourceImage":"app@sha256:12"},"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "InvalidParameter" },
        { "no target", """{"source":{"registryUri":"registry.example.test","sourceImage":"app:v1"}}""", HttpStatusCode.BadRequest, "InvalidParameter" },
        { "bad target", """{"source":{"registryUri":"registry.example.test","sourceImage":"app:v1"},"targetTags":["a:b:c!"]}""", HttpStatusCode.BadRequest, "InvalidParameter" },
        { "bad mode", """{"source":{"registryUri":"registry.example.test","sourceImage":"app:v1"},"targetTags":["a:b"],"mode":"Sometimes"}""", HttpStatusCode.BadRequest, "InvalidParameter" },
        { "password missing", """{"source":{"registryUri":"registry.example.test","sourceImage":"app:v1","credentials":{"username":"u"}},"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "InvalidParameter" },
        { "neither uri nor id", """{"source":{"sourceImage":"app:v1"},"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "InvalidParameter" },
        { "unknown registry id", """{"source":{"resourceId":"/subscriptions/x/resourceGroups/y/providers/Microsoft.ContainerRegistry/registries/nosuchregistry1","sourceImage":"app:v1"},"targetTags":["a:b"]}""", HttpStatusCode.NotFound, "ResourceNotFound" },
        { "registryUri with a path", """{"source":{"registryUri":"registry.example.test/v2","sourceImage":"app:v1"},"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "InvalidParameter" },
        { "private address", """{"source":{"registryUri":"10.1.2.3:5000","sourceImage":"app:v1"},"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "SourceNotAllowed" },
        { "link-local metadata address", """{"source":{"registryUri":"169.254.169.254","sourceImage":"app:v1"},"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "SourceNotAllowed" },
        { "ipv6 loopback", """{"source":{"registryUri":"[::1]:5000","sourceImage":"app:v1"},"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "SourceNotAllowed" },
        { "plain http not listed", """{"source":{"registryUri":"http://registry.example.test","sourceImage":"app:v1"},"targetTags":["a:b"]}""", HttpStatusCode.BadRequest, "SourceNotAllowed" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task ImportImage_RefusesBadRequestsAtOnce(string because, string body, HttpStatusCode expected, string code)
    {
        using var client = await server.CreateManagementClientAsync();
        var result = await client.SendAsync(HttpMethod.Post, server.RegistryPath(server.RegistryName) + "/importImage", rawBody: body);
        Assert.True(code == Arm.AssertArmError(expected, result), because);
        Assert.False(result.Response.Headers.Contains("Azure-AsyncOperation"), because);
    }

    private static JsonObject Body(JsonObject source, string targetTag) =>
        new() { ["source"] = source, ["targetTags"] = new JsonArray(targetTag), ["mode"] = "NoForce" };

    /// <summary>GETs the status resource as az does (bounded: 100 polls, 100 ms apart) until it is final.</summary>
    private static async Task<JsonNode> PollAsync(HttpClient client, Uri operation)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var (status, body, _) = await client.SendAsync(HttpMethod.Get, operation.PathAndQuery);
            Assert.Equal(HttpStatusCode.OK, status);
            if (body!["status"]!.GetValue<string>() != "InProgress") return body;
            await Task.Delay(100);
        }
        throw new TimeoutException("the import did not finish");
    }
}

public sealed class SqliteImportTests(ManagementTestServer server) : ImportTests<ManagementTestServer>(server), IClassFixture<ManagementTestServer>;

public sealed class PostgreSqlImportTests(PostgreSqlImportTests.Server server)
    : ImportTests<PostgreSqlImportTests.Server>(server), IClassFixture<PostgreSqlImportTests.Server>
{
    public sealed class Server() : PostgreSqlBerthTestServer(throttled: false);
}
