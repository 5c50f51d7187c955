using Berth.Core.Content;
using Berth.Core.Storage;
using Berth.Oci;

namespace Berth.Server.DataPlane;

internal static class BlobHandlers
{
    public static async Task GetAsync(HttpContext context, RepositoryKey repository, string digestText)
    {
        var digest = Digest.Parse(digestText);
        var blobs = context.RequestServices.GetRequiredService<BlobService>();
        var response = context.Response;
        response.Headers[DataPlaneResults.ContentDigestHeader] = digest.ToString();
        response.Headers.ETag = $"\"{digest}\"";
        response.Headers.AcceptRanges = "bytes";
        // Blobs never change, so they can be cached anywhere for as long as anyone likes.
        response.Headers.CacheControl = "max-age=31536000";

        if (HttpMethods.IsHead(context.Request.Method))
        {
            var size = await blobs.GetSizeAsync(repository, digest, context.RequestAborted);
            response.ContentType = "application/octet-stream";
            response.ContentLength = size;
            return;
        }

        using var content = await blobs.OpenAsync(repository, digest, context.RequestAborted);
        // FileStreamResult does Range (206, Content-Range, 416 for unsatisfiable ranges) and HEAD the standard way.
        await TypedResults.Stream(content.Stream, "application/octet-stream", enableRangeProcessing: true).ExecuteAsync(context);
    }

    public static async Task DeleteAsync(HttpContext context, RepositoryKey repository, string digestText)
    {
        var digest = Digest.Parse(digestText);
        await context.RequestServices.GetRequiredService<BlobService>().DeleteAsync(repository, digest, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
    }
}
