namespace Berth.Server.Tests.Access;

public sealed class SmokeTests(BerthTestServer server) : IClassFixture<BerthTestServer>
{
    [Fact]
    public async Task BaseEndpoint_WithAdminBasicCredentials_Returns200()
    {
        using var response = await server.Client.GetAsync("/v2/");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }
}
