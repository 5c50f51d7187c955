using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Berth.Reliability.Tests.Infrastructure;

/// <summary>
/// HTTP/1.1 over a bare socket, for requests HttpClient refuses to send: unnormalized paths, lying lengths,
/// bodies that stop early, stalled headers.
/// </summary>
public static class RawHttp
{
    public sealed record RawResponse(int Status, string Head, string Body)
    {
        /// <summary>0 when the server closed the connection without answering.</summary>
        public bool Answered => Status > 0;
    }

    /// <summary>Sends <paramref name="head"/> (CRLF line ends added) and <paramref name="body"/>, then reads the answer.</summary>
    public static async Task<RawResponse> SendAsync(Uri server, string head, byte[]? body = null, bool closeAfterSending = false, TimeSpan? timeout = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        var stream = client.GetStream();
        var text = head.Replace("\r\n", "\n").Replace("\n", "\r\n");
        // One request per connection, so the answer ends where the connection does (bodies may be chunked).
        text = text.TrimEnd('\r', '\n') + "\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.Latin1.GetBytes(text));
        if (body is not null) await stream.WriteAsync(body);
        if (closeAfterSending) client.Client.Shutdown(SocketShutdown.Send);
        return await ReadResponseAsync(stream, timeout ?? TimeSpan.FromSeconds(30));
    }

    /// <summary>Reads until the server closes or the head and a Content-Length body have arrived.</summary>
    public static async Task<RawResponse> ReadResponseAsync(NetworkStream stream, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer, cancel.Token);
                if (read == 0) break;
                received.Write(buffer, 0, read);
                var soFar = Encoding.Latin1.GetString(received.ToArray());
                var end = soFar.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end < 0) continue;
                var length = ContentLength(soFar[..end]);
                if (length is { } n && soFar.Length - end - 4 >= n) break;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
            // Reset or timed out: whatever arrived is the answer.
        }
        var all = Encoding.Latin1.GetString(received.ToArray());
        var headEnd = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headEnd < 0) return new RawResponse(0, all, "");
        var head = all[..headEnd];
        var status = head.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(head.AsSpan(9, 3), out var s) ? s : 0;
        return new RawResponse(status, head, all[(headEnd + 4)..]);
    }

    private static long? ContentLength(string head)
    {
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                return long.Parse(line["Content-Length:".Length..].Trim());
        }
        return null;
    }

    /// <summary>How long until the server answers or closes a connection that sends only <paramref name="partial"/>.</summary>
    public static async Task<(RawResponse Response, TimeSpan Elapsed)> StallAsync(Uri server, string partial, byte[]? bodyPrefix, TimeSpan limit)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port);
        var stream = client.GetStream();
        var clock = Stopwatch.StartNew();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(partial.Replace("\r\n", "\n").Replace("\n", "\r\n")));
        if (bodyPrefix is not null) await stream.WriteAsync(bodyPrefix);
        var response = await ReadResponseAsync(stream, limit);
        return (response, clock.Elapsed);
    }
}
