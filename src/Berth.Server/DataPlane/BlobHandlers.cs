using Berth.Server.Requests;

namespace Berth.Server.DataPlane;

internal static class BlobHandlers
{
    public static async Task GetAsync(HttpContext context, RegistryRequest request)
    {
        var repository = request.Repository;
        var digest = Digest.Parse(request.Argument);
        var blobs = context.RequestServices.GetRequiredService<BlobService>();
        var response = context.Response;
        response.Headers[DataPlaneResults.ContentDigestHeader] = digest.ToString();
        if (await PullThroughRequests.FindAsync(context, repository) is { } cached && await PullThroughAsync(context, request, cached, digest)) return;

        // A GET may be sent to the object store (authorization has already run); HEAD is answered here, from metadata.
        if (HttpMethods.IsGet(context.Request.Method)
            && await blobs.GetDownloadRedirectOrNullAsync(repository, digest, context.RequestAborted) is { } location)
        {
            // No Cache-Control: the URL expires, so a cache must not keep this answer past its life.
            response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            response.Headers.Location = location.AbsoluteUri;
            response.ContentLength = 0;
            return;
        }

        response.Headers.AcceptRanges = "bytes";
        CacheHeaders.Apply(response, digest, addressedByDigest: true, request.IsPublic);

        if (HttpMethods.IsHead(context.Request.Method))
        {
            var size = await blobs.GetSizeAsync(repository, digest, context.RequestAborted);
            response.ContentType = "application/octet-stream";
            response.ContentLength = size;
            return;
        }

        using var content = await blobs.OpenAsync(repository, digest, context.RequestAborted);
        response.ContentType = "application/octet-stream";
        if (!TrySelectRange(context, content.Length, out var offset, out var length)) return;
        response.ContentLength = length;
        await CopyToResponseAsync(content.Stream, offset, length, response.BodyWriter, context.RequestAborted);
    }

    /// <summary>
    /// A blob of a cache rule's repository that is not here yet: a GET fetches it, streaming it to this client as it is
    /// stored unless the client asked for a range (it then waits for the blob and gets its range from the store); a HEAD
    /// asks the upstream for the size only. True when the response has been written.
    /// </summary>
    private static async Task<bool> PullThroughAsync(HttpContext context, RegistryRequest request, Core.ArtifactCache.CachedRepository cached, Digest digest)
    {
        var cache = PullThroughRequests.Cache(context);
        var repository = request.Repository;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            if (await context.RequestServices.GetRequiredService<IMetadataStore>().GetLinkedBlobSizeOrNullAsync(repository, digest, context.RequestAborted) is not null)
                return false;
            var size = await cache.GetUpstreamBlobSizeAsync(cached, digest, context.RequestAborted)
                ?? throw new OciException(OciErrorCode.BlobUnknown, $"blob unknown to registry and to upstream {cached.Upstream}", new { digest = digest.ToString() });
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = size;
            return true;
        }
        using var sink = string.IsNullOrEmpty(context.Request.Headers.Range) ? new PullThroughRequests.ResponseSink(context, digest, request.IsPublic) : null;
        return await cache.EnsureBlobAsync(cached, repository, digest, sink, context.RequestAborted);
    }

    /// <summary>Large reads straight into the response pipe's own memory: one copy from the page cache, few syscalls.</summary>
    private const int CopyChunkSize = 1 << 20;

    /// <summary>
    /// Applies a single <c>Range: bytes=</c> request (RFC 9110 §14): 206 with Content-Range for a satisfiable one,
    /// 416 with <c>bytes */length</c> for an unsatisfiable one. Multiple ranges are answered with the whole blob, which
    /// the RFC allows and no registry client asks for.
    /// </summary>
    private static bool TrySelectRange(HttpContext context, long size, out long offset, out long length)
    {
        (offset, length) = (0, size);
        var header = context.Request.Headers.Range.ToString();
        if (string.IsNullOrEmpty(header) || !RangeHeaderValue.TryParse(header, out var range)
            || !string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase) || range.Ranges.Count != 1)
            return true;

        var item = range.Ranges.First();
        long start, end;
        if (item.From is { } from)
        {
            (start, end) = (from, Math.Min(item.To ?? size - 1, size - 1));
        }
        else
        {
            (start, end) = (Math.Max(0, size - item.To!.Value), size - 1);
            if (item.To == 0) start = size;
        }
        if (start >= size || start > end)
        {
            context.Response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
            context.Response.Headers.ContentRange = $"bytes */{size}";
            context.Response.ContentLength = 0;
            return false;
        }
        context.Response.StatusCode = StatusCodes.Status206PartialContent;
        context.Response.Headers.ContentRange = $"bytes {start}-{end}/{size}";
        (offset, length) = (start, end - start + 1);
        return true;
    }

    private static async Task CopyToResponseAsync(Stream source, long offset, long length, System.IO.Pipelines.PipeWriter target, CancellationToken cancellationToken)
    {
        // A local file is read positionally and synchronously: from the page cache that is a memory copy, cheaper than
        // the thread-pool hop an asynchronous file read costs on Linux.
        var file = (source as FileStream)?.SafeFileHandle;
        if (file is null && offset > 0) source.Seek(offset, SeekOrigin.Begin);
        while (length > 0)
        {
            var memory = target.GetMemory((int)Math.Min(CopyChunkSize, length));
            var chunk = memory[..(int)Math.Min(memory.Length, length)];
            var read = file is not null ? RandomAccess.Read(file, chunk.Span, offset) : await source.ReadAsync(chunk, cancellationToken);
            offset += read;
            if (read == 0) throw new IOException("the blob ended before its recorded size; it may be corrupt");
            target.Advance(read);
            length -= read;
            var flushed = await target.FlushAsync(cancellationToken);
            if (flushed.IsCanceled || flushed.IsCompleted) return;
        }
    }

    public static async Task DeleteAsync(HttpContext context, RepositoryKey repository, string digestText)
    {
        var digest = Digest.Parse(digestText);
        await context.RequestServices.GetRequiredService<BlobService>().DeleteAsync(repository, digest, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
    }
}
