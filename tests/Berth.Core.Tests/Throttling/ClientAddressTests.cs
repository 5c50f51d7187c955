using System.Net;
using Berth.Core.Throttling;

namespace Berth.Core.Tests.Throttling;

public sealed class ClientAddressTests
{
    [Fact]
    public void Ipv6AddressesInOneSlash64_ShareAKey() =>
        Assert.Equal(ClientAddress.ToKey(IPAddress.Parse("2001:db8:1:2::1")), ClientAddress.ToKey(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff")));

    [Fact]
    public void Ipv6AddressesInDifferentSlash64s_HaveDifferentKeys() =>
        Assert.NotEqual(ClientAddress.ToKey(IPAddress.Parse("2001:db8:1:2::1")), ClientAddress.ToKey(IPAddress.Parse("2001:db8:1:3::1")));

    [Fact]
    public void Ipv4Addresses_AreKeyedWhole() =>
        Assert.NotEqual(ClientAddress.ToKey(IPAddress.Parse("127.0.0.2")), ClientAddress.ToKey(IPAddress.Parse("127.0.0.3")));

    [Fact]
    public void Ipv4MappedIpv6_IsTheIpv4Address() =>
        Assert.Equal(ClientAddress.ToKey(IPAddress.Parse("127.0.0.2")), ClientAddress.ToKey(IPAddress.Parse("::ffff:127.0.0.2")));

    [Fact]
    public void Ipv4Address_DoesNotCollideWithTheZeroIpv6Prefix() =>
        Assert.NotEqual(ClientAddress.ToKey(IPAddress.Parse("0.0.0.1")), ClientAddress.ToKey(IPAddress.Parse("::1")));

    [Fact]
    public void UnknownAddress_IsZero() => Assert.Equal(UInt128.Zero, ClientAddress.ToKey(null));
}
