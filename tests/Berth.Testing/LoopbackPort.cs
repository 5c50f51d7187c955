using System.Net;
using System.Net.Sockets;

namespace Berth.Testing;

/// <summary>A loopback port nothing listens on right now, for the services the tests start (the kernel picks it).</summary>
public static class LoopbackPort
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
