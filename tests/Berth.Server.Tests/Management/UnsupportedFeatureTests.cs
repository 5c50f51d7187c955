using System.Net;

namespace Berth.Server.Tests.Management;

/// <summary>Replications, tasks, connected registries, private endpoints and agent pools: a registry that has none.</summary>
public sealed class UnsupportedFeatureTests(ManagementTestServer server) : IClassFixture<ManagementTestServer>
{
    public static TheoryData<string> Collections => ["replications", "tasks", "connectedRegistries", "privateEndpointConnections", "agentPools"];

    [Theory]
    [MemberData(nameof(Collections))]
    public async Task List_AnswersAnEmptyList(string collection)
    {
        using var client = await server.CreateManagementClientAsync();
        var body = await client.GetJsonAsync(server.RegistryPath(server.RegistryName) + "/" + collection);
        Assert.Equal("""{"value":[]}""", body.ToJsonString());
    }

    [Theory]
    [MemberData(nameof(Collections))]
    public async Task List_OfAMissingRegistry_IsResourceNotFound(string collection)
    {
        using var client = await server.CreateManagementClientAsync();
        var result = await client.SendAsync(HttpMethod.Get, server.RegistryPath("nosuchregistry1") + "/" + collection);
        Assert.Equal("ResourceNotFound", Arm.AssertArmError(HttpStatusCode.NotFound, result));
    }

    [Fact]
    public async Task List_AnyApiVersion()
    {
        using var client = await server.CreateManagementClientAsync();
        var body = await client.GetJsonAsync(server.RegistryPath(server.RegistryName) + "/tasks?api-version=2019-06-01-preview");
        Assert.Empty(body["value"]!.AsArray());
    }

    [Theory]
    [InlineData("PUT", "replications", "geo-replication")]
    [InlineData("PATCH", "tasks", "ACR Tasks")]
    [InlineData("PUT", "connectedRegistries", "connected registries")]
    [InlineData("PUT", "privateEndpointConnections", "private endpoints")]
    [InlineData("POST", "agentPools", "agent pools")]
    public async Task Create_IsFeatureNotSupported(string method, string collection, string feature)
    {
        using var client = await server.CreateManagementClientAsync();
        var result = await client.SendAsync(new HttpMethod(method), server.RegistryPath(server.RegistryName) + $"/{collection}/one",
            new { location = "local", properties = new { } });
        Assert.Equal("FeatureNotSupported", Arm.AssertArmError(HttpStatusCode.BadRequest, result));
        Assert.Contains(feature, result.Body!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_OfOne_IsResourceNotFound()
    {
        using var client = await server.CreateManagementClientAsync();
        var result = await client.SendAsync(HttpMethod.Get, server.RegistryPath(server.RegistryName) + "/replications/eastus");
        Assert.Equal("ResourceNotFound", Arm.AssertArmError(HttpStatusCode.NotFound, result));
        Assert.Contains($"registries/{server.RegistryName}/replications/eastus", result.Body!["error"]!["message"]!.GetValue<string>());
    }
}
