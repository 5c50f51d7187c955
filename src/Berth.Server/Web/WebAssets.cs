using System.Security.Cryptography;

namespace Berth.Server.Web;

/// <summary>
/// The page's two static files, compiled into the server (so it works offline and from any working directory): the
/// style sheet and the copy-button script. Pages link them with a content hash in the query, so they are cached for a
/// year and a new build is fetched at once; the ETag answers revalidation.
/// </summary>
public static class WebAssets
{
    public sealed record Asset(string Name, string ContentType, byte[] Content, string Hash)
    {
        /// <summary>The URL pages link: changes whenever the content does.</summary>
        public string Url => $"{WebPaths.AssetsPrefix}/{Name}?v={Hash}";
    }

    public static Asset Stylesheet { get; } = Load("berth.css", "text/css; charset=utf-8");

    public static Asset Script { get; } = Load("berth.js", "text/javascript; charset=utf-8");

    public static Asset? Find(string name) => name == Stylesheet.Name ? Stylesheet : name == Script.Name ? Script : null;

    public static async Task ServeAsync(HttpContext context, string name)
    {
        var response = context.Response;
        WebResponses.AddSecurityHeaders(response);
        if (Find(name) is not { } asset)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        var etag = $"\"{asset.Hash}\"";
        response.Headers.ETag = etag;
        response.Headers.CacheControl = "public, max-age=31536000, immutable";
        if (context.Request.Headers.IfNoneMatch == etag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Content.Length;
        await response.Body.WriteAsync(asset.Content, context.RequestAborted);
    }

    private static Asset Load(string name, string contentType)
    {
        using var stream = typeof(WebAssets).Assembly.GetManifestResourceStream("Berth.Server.Web.Assets." + name)
            ?? throw new InvalidOperationException($"the web asset {name} is not embedded in the server");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var content = buffer.ToArray();
        return new Asset(name, contentType, content, Convert.ToHexStringLower(SHA256.HashData(content))[..16]);
    }
}
