using System.Net;
using System.Net.Sockets;

namespace Berth.Testing;

/// <summary>A loopback port nothing listens on right now, for the services the tests start (the kernel picks it).</summary>
public static class LoopbackPort
{
    /// <summary>
    /// A port the kernel will not hand out again for about a minute. The services are started with it a moment (or, when
    /// a test waits for a service to come back, many seconds) later, and meanwhile the other test processes open
    /// thousands of connections. So the port is left with a connection in TIME_WAIT on it, made with SO_REUSEADDR:
    /// the kernel then skips it when it picks a port for any other socket, while a server that sets SO_REUSEADDR
    /// (Kestrel, redis-server, PostgreSQL, nginx, Node.js all do) can still listen on it at once.
    /// </summary>
    public static int Free()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(endpoint);
        using (var accepted = listener.Accept())
        {
            // The end that closes first is the one left in TIME_WAIT, and this end holds the port.
            accepted.Shutdown(SocketShutdown.Both);
            accepted.Close();
        }
        return endpoint.Port;
    }
}
