using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Berth.Azure.Tests.Infrastructure;

/// <summary>
/// An HTTP proxy on 127.0.0.1 that the tools under test get as HTTP_PROXY/HTTPS_PROXY. It records every request and
/// refuses (403, never connecting) any whose target is not a loopback name or address; loopback CONNECTs are tunnelled,
/// so a NO_PROXY gap shows up as a recorded request rather than a failure. A test asserts
/// <see cref="NonLoopbackRequests"/> is empty: nothing the tools did left the machine.
/// </summary>
public sealed class LoopbackGuardProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public ConcurrentQueue<string> Requests { get; } = new();
    public ConcurrentQueue<string> NonLoopbackRequests { get; } = new();

    public string Url { get; }

    public LoopbackGuardProxy()
    {
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = AcceptAsync();
    }

    public static bool IsLoopbackHost(string host)
    {
        host = host.Trim('[', ']').TrimEnd('.');
        if (IPAddress.TryParse(host, out var address)) return IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var head = await ReadHeadAsync(stream);
            if (head is null) return;
            var requestLine = head.Split("\r\n")[0];
            Requests.Enqueue(requestLine);
            var parts = requestLine.Split(' ');
            if (parts.Length < 2) return;
            string host;
            int port;
            if (parts[0] == "CONNECT")
            {
                var colon = parts[1].LastIndexOf(':');
                host = parts[1][..colon];
                port = int.Parse(parts[1][(colon + 1)..]);
            }
            else
            {
                var uri = new Uri(parts[1]);
                host = uri.Host;
                port = uri.Port;
            }
            if (!IsLoopbackHost(host) || parts[0] != "CONNECT")
            {
                if (!IsLoopbackHost(host)) NonLoopbackRequests.Enqueue(requestLine);
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                return;
            }
            using var upstream = new TcpClient();
            await upstream.ConnectAsync(IPAddress.Loopback, port);
            await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\n\r\n"));
            var upstreamStream = upstream.GetStream();
            await Task.WhenAny(stream.CopyToAsync(upstreamStream), upstreamStream.CopyToAsync(stream));
        }
        catch (Exception e) when (e is IOException or SocketException or FormatException or UriFormatException or ObjectDisposedException or ArgumentException)
        {
        }
    }

    private static async Task<string?> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (buffer.Count < 16 * 1024)
        {
            if (await stream.ReadAsync(one) == 0) return null;
            buffer.Add(one[0]);
            var n = buffer.Count;
            if (n >= 4 && buffer[n - 4] == '\r' && buffer[n - 3] == '\n' && buffer[n - 2] == '\r' && buffer[n - 1] == '\n')
                return Encoding.ASCII.GetString(buffer.ToArray());
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accepting; } catch (Exception) { }
    }
}
