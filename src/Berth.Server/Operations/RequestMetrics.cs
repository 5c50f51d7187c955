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
                var path = context.Request.Path.Value ?? "";
                var group = GroupOf(path);
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

    /// <summary>The endpoint group a path belongs to; a fixed, small set so that label cardinality stays bounded.</summary>
    public static string GroupOf(string path)
    {
        if (path.StartsWith("/v2/", StringComparison.Ordinal) || path == "/v2")
        {
            if (path is "/v2" or "/v2/") return "v2_base";
            if (path.StartsWith("/v2/_catalog", StringComparison.Ordinal)) return "catalog";
            if (path.EndsWith("/tags/list", StringComparison.Ordinal)) return "tags";
            if (path.Contains("/referrers/", StringComparison.Ordinal)) return "referrers";
            if (path.Contains("/blobs/uploads", StringComparison.Ordinal)) return "upload";
            if (path.Contains("/blobs/", StringComparison.Ordinal)) return "blob";
            if (path.Contains("/manifests/", StringComparison.Ordinal)) return "manifest";
            return "v2_other";
        }
        if (path.StartsWith("/acr/", StringComparison.OrdinalIgnoreCase)) return "acr";
        if (path.StartsWith("/oauth2/", StringComparison.OrdinalIgnoreCase)) return "oauth2";
        if (path.StartsWith("/adfs/", StringComparison.OrdinalIgnoreCase) || path.StartsWith("/metadata/identity", StringComparison.OrdinalIgnoreCase)) return "signin";
        if (path.StartsWith("/subscriptions", StringComparison.OrdinalIgnoreCase) || path.StartsWith("/providers", StringComparison.OrdinalIgnoreCase)
            || path.StartsWith("/metadata/", StringComparison.OrdinalIgnoreCase)) return "management";
        if (path is "/healthz" or "/readyz" or "/metrics") return "operations";
        return "other";
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
