using Berth.Server.Requests;

namespace Berth.Server.Operations;

/// <summary>
/// Counts every request by endpoint group and status, and the bytes that crossed the wire; also records sign-in
/// refusals in the audit trail, which this is the one place to see for every sign-in route.
/// </summary>
public static class RequestMetrics
{
    public static IApplicationBuilder UseBerthMetrics(this IApplicationBuilder app)
    {
        var metrics = app.ApplicationServices.GetRequiredService<BerthMetrics>();
        return app.Use(async (context, next) =>
        {
            var counting = new CountingReadStream(context.Request.Body);
            context.Request.Body = counting;
            var threw = false;
            try
            {
                await next(context);
            }
            catch
            {
                threw = true;
                throw;
            }
            finally
            {
                // A fixed, small set of groups (the table's and the surfaces'), so that label cardinality stays bounded.
                var group = EndpointGroup.NameOf(context);
                var status = FinalStatus.Of(context, threw);
                metrics.RequestCompleted(group, status, counting.BytesRead, context.Response.ContentLength ?? 0);
                if (group == "oauth2" && status == StatusCodes.Status200OK) metrics.TokenIssued(); // both routes answer 200 only with a token
                if (group == "upload" && HttpMethods.IsPost(context.Request.Method) && status == StatusCodes.Status202Accepted)
                    metrics.UploadStarted();
                if (group == "signin" && status is StatusCodes.Status400BadRequest or StatusCodes.Status401Unauthorized)
                    Audit.SignInRefused(context, status);
            }
        });
    }

    /// <summary>Passes reads through and counts them; request bodies only, since wrapping responses would put a copy on every download.</summary>
    private sealed class CountingReadStream(Stream inner) : Stream
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
