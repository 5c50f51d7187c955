using System.Net;
using Berth.Core.Import;

namespace Berth.Core.Tests.Import;

/// <summary>Which destinations a server-side request may reach, and the settings that widen it.</summary>
public sealed class OutboundRequestGuardTests
{
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
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("100.128.0.1", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2001:4860:4860::8888", false)]
    public void IsRestricted_CoversLoopbackPrivateSharedAndLinkLocal(string address, bool restricted) =>
        Assert.Equal(restricted, OutboundRequestGuard.IsRestricted(IPAddress.Parse(address)));

    [Fact]
    public async Task Resolve_RefusesAnUnlistedLoopbackDestination_AndNamesTheSetting()
    {
        var guard = new OutboundRequestGuard([], []);
        var refused = await Assert.ThrowsAsync<OutboundRequestRefusedException>(() => guard.ResolveAsync("https", "127.0.0.1", 5000, CancellationToken.None));
        Assert.Contains("list \"127.0.0.1:5000\" in Berth:Import:AllowedSources", refused.Message);
    }

    [Fact]
    public async Task Resolve_AllowsListedDestinations_ByHostAndPortOrBareHost()
    {
        var guard = new OutboundRequestGuard(["127.0.0.1:5000", "10.0.0.9"], ["127.0.0.1:5000"]);
        Assert.Equal(IPAddress.Loopback, await guard.ResolveAsync("http", "127.0.0.1", 5000, CancellationToken.None));
        Assert.Equal(IPAddress.Parse("10.0.0.9"), await guard.ResolveAsync("https", "10.0.0.9", 443, CancellationToken.None));
        await Assert.ThrowsAsync<OutboundRequestRefusedException>(() => guard.ResolveAsync("https", "127.0.0.1", 5001, CancellationToken.None));
    }

    [Fact]
    public async Task Resolve_AllowsAnUpstreamListedForPlainHttp_OnItsPrivateAddressToo()
    {
        var guard = new OutboundRequestGuard([], ["127.0.0.1:5000"]);
        Assert.Equal(IPAddress.Loopback, await guard.ResolveAsync("http", "127.0.0.1", 5000, CancellationToken.None));
        await Assert.ThrowsAsync<OutboundRequestRefusedException>(() => guard.ResolveAsync("https", "127.0.0.1", 5001, CancellationToken.None));
    }

    [Fact]
    public async Task Resolve_RefusesPlainHttpUnlessListedForIt()
    {
        var guard = new OutboundRequestGuard(["127.0.0.1:5000"], []);
        var refused = await Assert.ThrowsAsync<OutboundRequestRefusedException>(() => guard.ResolveAsync("http", "127.0.0.1", 5000, CancellationToken.None));
        Assert.Contains("Berth:ArtifactCache:AllowHttpUpstreams", refused.Message);
        Assert.False(guard.AllowsHttp("127.0.0.1", 5000));
    }

    [Theory]
    [InlineData("registry.example.test", "https://registry.example.test/")]
    [InlineData("registry.example.test:5000", "https://registry.example.test:5000/")]
    [InlineData("docker.io", "https://registry-1.docker.io/")]
    [InlineData("127.0.0.1:5000", "http://127.0.0.1:5000/")]
    [InlineData("http://registry.example.test", "http://registry.example.test/")]
    public void BaseUriFor_UsesHttpsUnlessTheHostIsListedForHttp(string registryUri, string expected) =>
        Assert.Equal(expected, SourceRegistryClient.BaseUriFor(registryUri, new OutboundRequestGuard([], ["127.0.0.1:5000"])).ToString());
}
