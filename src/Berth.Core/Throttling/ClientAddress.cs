using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Berth.Core.Throttling;

/// <summary>
/// The part of a client address that names one client for throttling: a whole IPv4 address, or the /64 prefix of an
/// IPv6 address (one customer network gets a /64 and picks addresses inside it freely, so the full address would let
/// one client appear as 2^64 clients).
/// </summary>
public static class ClientAddress
{
    /// <summary>The key for <paramref name="address"/>; IPv4-mapped IPv6 counts as the IPv4 address. Zero when unknown.</summary>
    public static UInt128 ToKey(IPAddress? address)
    {
        if (address is null) return UInt128.Zero;
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            if (!address.TryWriteBytes(bytes, out _)) return UInt128.Zero;
            return Ipv4Key(bytes);
        }
        if (!address.TryWriteBytes(bytes, out var written) || written != 16) return UInt128.Zero;
        // A dual-mode listener reports IPv4 clients as ::ffff:a.b.c.d; read them in place rather than allocate MapToIPv4.
        if (address.IsIPv4MappedToIPv6) return Ipv4Key(bytes[12..]);
        return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(bytes), 0);
    }

    // ::ffff:a.b.c.d, so IPv4 keys never collide with IPv6 prefixes (whose low half is zero).
    private static UInt128 Ipv4Key(ReadOnlySpan<byte> ipv4) =>
        new(0, 0xFFFF_0000_0000UL | BinaryPrimitives.ReadUInt32BigEndian(ipv4));
}
