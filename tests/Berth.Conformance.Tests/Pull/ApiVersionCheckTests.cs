using System.Net;

namespace Berth.Conformance.Tests.Pull;

/// <summary>end-1: <c>GET /v2/</c>.</summary>
public abstract class ApiVersionCheckTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    [Fact]
    public async Task GetV2_Returns200()
    {
        using var response = await _client.GetAsync("/v2/");
        await response.ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GetV2_SendsDockerDistributionApiVersionHeader()
    {
        using var response = await _client.GetAsync("/v2/");
        response.HasHeader("Docker-Distribution-Api-Version", "registry/2.0");
    }

    [Fact]
    public async Task HeadV2_Returns200()
    {
        using var response = await _client.SendAsync(HttpMethod.Head, "/v2/");
        await response.ExpectAsync(HttpStatusCode.OK);
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class ApiVersionCheckTests(RegistryFixture registry) : ApiVersionCheckTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class ApiVersionCheckOnScaleOutTests(ScaleOutRegistryFixture registry) : ApiVersionCheckTests<ScaleOutRegistryFixture>(registry);
