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
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            // ::ffff:a.b.c.d, so IPv4 keys never collide with IPv6 prefixes.
            if (!address.TryWriteBytes(bytes[12..], out _)) return UInt128.Zero;
            return new UInt128(0, 0xFFFF_0000_0000UL | BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]));
        }
        if (!address.TryWriteBytes(bytes, out var written) || written != 16) return UInt128.Zero;
        return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(bytes), 0);
    }
}
