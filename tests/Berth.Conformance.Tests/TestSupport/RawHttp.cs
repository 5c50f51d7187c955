using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Berth.Conformance.Tests.TestSupport;

/// <summary>
/// Sends a request line exactly as written. <see cref="HttpClient"/> (through <see cref="Uri"/>)
/// removes dot segments and re-escapes paths, which would hide the path tricks a registry must refuse.
/// </summary>
public static class RawHttp
{
    public sealed record Response(int Status, string Head, string Body)
    {
        public override string ToString() => $"{Status}\n{Head}\n\n{Body}";
    }

    public static async Task<Response> SendAsync(RegistryFixture registry, string method, string target, byte[]? body = null, string? contentType = null)
    {
        var server = registry.BaseAddress;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        await using var stream = tcp.GetStream();
        var head = new StringBuilder()
            .Append($"{method} {target} HTTP/1.1\r\n")
            .Append($"Host: {server.Authority}\r\n")
            .Append("Connection: close\r\n")
            .Append($"Content-Length: {body?.Length ?? 0}\r\n");
        if (contentType is not null) head.Append($"Content-Type: {contentType}\r\n");
        if (registry.Authorization is not null) head.Append($"Authorization: {registry.Authorization}\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
        if (body is not null) await stream.WriteAsync(body);

        using var buffer = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await stream.CopyToAsync(buffer, timeout.Token);
        var text = Encoding.UTF8.GetString(buffer.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var responseHead = split < 0 ? text : text[..split];
        var responseBody = split < 0 ? "" : text[(split + 4)..];
        var statusLine = responseHead.Split("\r\n")[0];
        var status = int.Parse(statusLine.Split(' ')[1]);
        return new Response(status, responseHead, responseBody);
    }
}

/// <summary>A body of unknown length, so HttpClient sends it with <c>Transfer-Encoding: chunked</c>.</summary>
public sealed class StreamedContent(byte[] data, int pieceSize = 4096) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (var offset = 0; offset < data.Length; offset += pieceSize)
        {
            await stream.WriteAsync(data.AsMemory(offset, Math.Min(pieceSize, data.Length - offset)));
            await stream.FlushAsync();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
