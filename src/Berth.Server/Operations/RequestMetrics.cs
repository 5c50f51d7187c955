using Berth.Server.Requests;

namespace Berth.Server.Operations;

/// <summary>
/// Counts every request by endpoint group and status, times it, and counts the bytes that crossed the wire; also
/// records sign-in refusals in the audit trail, which this is the one place to see for every sign-in route.
/// </summary>
public static class RequestMetrics
{
    /// <summary>
    /// Records one finished request; <paramref name="requestBytes"/> is what <see cref="CountingReadStream"/> read of
    /// its body, <paramref name="seconds"/> its time from arrival to the end of the response.
    /// </summary>
    public static void Record(BerthMetrics metrics, HttpContext context, int status, long requestBytes, double seconds)
    {
        // A fixed, small set of groups (the table's and the surfaces'), so that label cardinality stays bounded.
        var group = EndpointGroup.NameOf(context);
        metrics.RequestCompleted(group, MethodLabel(context.Request.Method), status, requestBytes, context.Response.ContentLength ?? 0, seconds);
        if (group == "oauth2" && status == StatusCodes.Status200OK) metrics.TokenIssued(); // both routes answer 200 only with a token
        if (group == "upload" && HttpMethods.IsPost(context.Request.Method) && status == StatusCodes.Status202Accepted)
            metrics.UploadStarted();
        if (group == "signin" && status is StatusCodes.Status400BadRequest or StatusCodes.Status401Unauthorized)
            Audit.SignInRefused(context, status);
    }

    /// <summary>HTTP's standard methods by name and anything else as <c>other</c>: a client chooses the method, and must not choose new series.</summary>
    private static string MethodLabel(string method) =>
        HttpMethods.GetCanonicalizedValue(method) is var known && (HttpMethods.IsGet(known) || HttpMethods.IsHead(known) || HttpMethods.IsPost(known)
            || HttpMethods.IsPut(known) || HttpMethods.IsPatch(known) || HttpMethods.IsDelete(known) || HttpMethods.IsOptions(known))
            ? known
            : "other";

    /// <summary>Passes reads through and counts them; request bodies only, since wrapping responses would put a copy on every download.</summary>
    internal sealed class CountingReadStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Count(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            BytesRead += read;
            return read;
        }
    }
}
