using System.Net;
using System.Net.Sockets;
using Berth.Core.ArtifactCache;
using Berth.Core.Outbound;
using Berth.Core.Upstream;

namespace Berth.Core.Tests.Outbound;

/// <summary>Which destinations a request made on a user's behalf (webhook, upstream, import) may reach, and the settings that widen it.</summary>
public sealed class DestinationGuardTests
{
    private const string Setting = "Berth:Import:AllowedSources";

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.5.6.7", true)]
    [InlineData("::1", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("ff02::1", true)]
    [InlineData("::", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("100.128.0.1", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2001:4860:4860::8888", false)]
    public void WhyRefused_CoversLoopbackPrivateSharedLinkLocalAndMulticast(string address, bool refused) =>
        Assert.Equal(refused, DestinationGuard.WhyRefused(IPAddress.Parse(address)) is not null);

    [Fact]
    public async Task Resolve_RefusesAnUnlistedLoopbackDestination_AndNamesTheReasonAndTheSetting()
    {
        var guard = new DestinationGuard([], [], Setting);
        var refused = await Assert.ThrowsAsync<OutboundRequestRefusedException>(() => guard.ResolveAsync("https", "127.0.0.1", 5000, CancellationToken.None));
        Assert.Contains("127.0.0.1:5000 is a loopback address", refused.Message);
        Assert.Contains("list \"127.0.0.1:5000\" in Berth:Import:AllowedSources", refused.Message);
    }

    [Fact]
    public async Task Resolve_ChecksTheAddressesANameResolvesTo_NotTheName()
    {
        var guard = new DestinationGuard([], [], Setting);
        var refused = await Assert.ThrowsAsync<OutboundRequestRefusedException>(() => guard.ResolveAsync("https", "localhost", 5000, CancellationToken.None));
        Assert.Contains("localhost:5000 resolves to", refused.Message);
        Assert.Contains("a loopback address", refused.Message);

        var listedByName = new DestinationGuard(["localhost:5000"], [], Setting);
        Assert.All(await listedByName.ResolveAsync("https", "localhost", 5000, CancellationToken.None), a => Assert.True(IPAddress.IsLoopback(a)));
        var listedByAddress = new DestinationGuard(["127.0.0.1:5000"], [], Setting);
        Assert.Equal([IPAddress.Loopback], await listedByAddress.ResolveAsync("https", "localhost", 5000, CancellationToken.None));
    }

    [Fact]
    public async Task Resolve_LetsANameThatDoesNotResolveFailAsTheResolverSays()
    {
        var guard = new DestinationGuard([], [], Setting);
        await Assert.ThrowsAnyAsync<SocketException>(() => guard.ResolveAsync("https", "no-such-host.invalid", 443, CancellationToken.None));
    }

    [Fact]
    public async Task Resolve_AllowsListedDestinations_ByHostAndPortOrBareHost()
    {
        var guard = new DestinationGuard(["127.0.0.1:5000", "10.0.0.9", "[::1]:5002"], ["127.0.0.1:5000"], Setting);
        Assert.Equal([IPAddress.Loopback], await guard.ResolveAsync("http", "127.0.0.1", 5000, CancellationToken.None));
        Assert.Equal([IPAddress.Parse("10.0.0.9")], await guard.ResolveAsync("https", "10.0.0.9", 443, CancellationToken.None));
        Assert.Equal([IPAddress.IPv6Loopback], await guard.ResolveAsync("https", "[::1]", 5002, CancellationToken.None));
        await Assert.ThrowsAsync<OutboundRequestRefusedException>(() => guard.ResolveAsync("https", "127.0.0.1", 5001, CancellationToken.None));
    }

    [Fact]
    public async Task Resolve_AllowsAnUpstreamListedForPlainHttp_OnItsPrivateAddressToo()
    {
        var guard = new DestinationGuard([], ["127.0.0.1:5000"], Setting);
        Assert.Equal([IPAddress.Loopback], await guard.ResolveAsync("http", "127.0.0.1", 5000, CancellationToken.None));
        await Assert.ThrowsAsync<OutboundRequestRefusedException>(() => guard.ResolveAsync("https", "127.0.0.1", 5001, CancellationToken.None));
    }

    [Fact]
    public async Task Resolve_RefusesPlainHttpUnlessListedForIt()
    {
        var guard = new DestinationGuard(["127.0.0.1:5000"], [], Setting);
        var refused = await Assert.ThrowsAsync<OutboundRequestRefusedException>(() => guard.ResolveAsync("http", "127.0.0.1", 5000, CancellationToken.None));
        Assert.Contains("Berth:ArtifactCache:AllowHttpUpstreams", refused.Message);
        Assert.False(guard.AllowsHttp("127.0.0.1", 5000));
    }

    [Fact]
    public async Task WithoutAnHttpList_PlainHttpGoesWhereHttpsMay_AndRestrictedAddressesStayRefused()
    {
        // Webhooks: ACR accepts http service URIs, but the address rules still hold.
        var guard = new DestinationGuard(["127.0.0.1:8080"], null, "Berth:Webhooks:AllowedDestinations");
        Assert.True(guard.AllowsHttp("receiver.example", 80));
        Assert.Equal([IPAddress.Loopback], await guard.ResolveAsync("http", "127.0.0.1", 8080, CancellationToken.None));
        var refused = await Assert.ThrowsAsync<OutboundRequestRefusedException>(() => guard.ResolveAsync("http", "169.254.169.254", 80, CancellationToken.None));
        Assert.Contains("a link-local address", refused.Message);
        Assert.Contains("Berth:Webhooks:AllowedDestinations", refused.Message);
    }

    [Fact]
    public async Task AHandlerConnection_ToARefusedAddress_FailsWithTheRefusal_AndSendsNothing()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var client = new HttpClient(new DestinationGuard([], [], Setting).CreateHandler(followRedirects: false));
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"https://127.0.0.1:{port}/v2/"));
        Assert.IsType<OutboundRequestRefusedException>(error.InnerException);
        Assert.False(listener.Pending());
    }

    [Theory]
    [InlineData("registry.example.test", "https://registry.example.test/")]
    [InlineData("registry.example.test:5000", "https://registry.example.test:5000/")]
    [InlineData("docker.io", "https://registry-1.docker.io/")]
    [InlineData("127.0.0.1:5000", "http://127.0.0.1:5000/")]
    [InlineData("http://registry.example.test", "http://registry.example.test/")]
    [InlineData("https://127.0.0.1:5000/", "https://127.0.0.1:5000/")]
    public void EndpointFor_UsesHttpsUnlessTheHostIsListedForHttp(string registry, string expected)
    {
        using var client = new RegistryClient(new DestinationGuard([], ["127.0.0.1:5000"], Setting), new ArtifactCacheOptions(), TimeProvider.System, "Berth-Test/1.0");
        Assert.Equal(expected, client.EndpointFor(registry).BaseUri.ToString());
    }

    [Theory]
    [InlineData("registry.example.test/v2")]
    [InlineData("user@registry.example.test")]
    [InlineData("ftp://registry.example.test")]
    [InlineData("https://registry.example.test/?x=1")]
    public void EndpointFor_RefusesWhatIsNotALoginServer(string registry)
    {
        using var client = new RegistryClient(new DestinationGuard([], [], Setting), new ArtifactCacheOptions(), TimeProvider.System, "Berth-Test/1.0");
        Assert.Throws<FormatException>(() => client.EndpointFor(registry));
    }
}
