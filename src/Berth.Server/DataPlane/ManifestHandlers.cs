using Berth.Core.PullCounts;
using Berth.Server.Requests;

namespace Berth.Server.DataPlane;

internal static class ManifestHandlers
{
    /// <summary>GET and HEAD of a manifest; a GET that is answered counts as a pull (of the tag too, when by tag).</summary>
    public static async Task GetAsync(HttpContext context, RegistryRequest request)
    {
        var repository = request.Repository;
        var reference = ParseToFind(request.Argument);
        if (await PullThroughRequests.FindAsync(context, repository) is { } cached)
            await PullThroughRequests.Cache(context).EnsureManifestAsync(cached, repository, reference, context.RequestAborted);
        var manifest = await Manifests(context).GetAsync(repository, reference, context.RequestAborted);
        EnsureAccepted(context.Request, manifest, reference);

        var response = context.Response;
        response.ContentType = manifest.MediaType;
        response.ContentLength = manifest.Content.Length;
        response.Headers[DataPlaneResults.ContentDigestHeader] = manifest.Digest.ToString();
        CacheHeaders.Apply(response, manifest.Digest, reference.IsDigest, request.IsPublic);
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await response.Body.WriteAsync(manifest.Content, context.RequestAborted);
        context.RequestServices.GetRequiredService<PullCounter>().Record(repository, reference.Tag, request.RequiredCaller.IsAnonymous);
    }

    public static async Task PutAsync(HttpContext context, RepositoryKey repository, string referenceText)
    {
        var reference = Reference.Parse(referenceText);
        await PullThroughRequests.EnsurePushAllowedAsync(context, repository);
        var content = await ReadManifestBodyAsync(context.Request);
        var pushed = await Manifests(context).PutAsync(repository, reference, context.Request.ContentType, content,
            RegistryRequests.ForEvents(context), context.RequestAborted);

        var response = context.Response;
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = $"/v2/{repository.Name}/manifests/{pushed.Digest}";
        response.Headers[DataPlaneResults.ContentDigestHeader] = pushed.Digest.ToString();
        if (pushed.Subject is { } subject) response.Headers["OCI-Subject"] = subject.ToString();
        response.ContentLength = 0;
    }

    public static async Task DeleteAsync(HttpContext context, RegistryRequest request)
    {
        await Manifests(context).DeleteAsync(request.Registry, request.Repository, ParseToFind(request.Argument), RegistryRequests.ForEvents(context), context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
    }

    /// <summary>
    /// A reference to look up (GET, HEAD, DELETE). Only a PUT checks the tag grammar (400 TAG_INVALID); a name that no
    /// push could have created is simply not there, so the lookup answers 404 MANIFEST_UNKNOWN as distribution does (the
    /// OCI conformance suite asks for <c>.INVALID_MANIFEST_NAME</c>). A malformed digest stays 400 DIGEST_INVALID.
    /// </summary>
    private static Reference ParseToFind(string referenceText) =>
        referenceText.Contains(':') || Names.IsValidTag(referenceText)
            ? Reference.Parse(referenceText)
            : throw new OciException(OciErrorCode.ManifestUnknown, "manifest unknown to registry");

    /// <summary>
    /// Like ACR: a client whose Accept header names manifest types but no OCI type is told the OCI manifest exists
    /// but was not accepted, instead of receiving a type it said it cannot parse. Docker types are always served.
    /// </summary>
    private static void EnsureAccepted(HttpRequest request, StoredManifest manifest, Reference reference)
    {
        if (!MediaTypes.IsOci(manifest.MediaType)) return;
        var accepted = request.Headers.Accept;
        if (accepted.Count == 0) return;
        if (!MediaTypeHeaderValue.TryParseList(accepted, out var types) || types.Count == 0) return;
        foreach (var type in types)
        {
            var name = type.MediaType.Value;
            if (name is "*/*" or "application/*" || string.Equals(name, manifest.MediaType, StringComparison.OrdinalIgnoreCase)) return;
        }
        throw new OciException(OciErrorCode.ManifestUnknown,
            $"OCI manifest found, but the Accept header does not support OCI manifests (it must include {manifest.MediaType})",
            new { reference = reference.ToString(), mediaType = manifest.MediaType });
    }

    private static async Task<byte[]> ReadManifestBodyAsync(HttpRequest request)
    {
        if (request.ContentLength > ManifestParser.MaxManifestBytes) throw TooLarge();
        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 4096);
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > ManifestParser.MaxManifestBytes) throw TooLarge();
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static OciException TooLarge() =>
        new(OciErrorCode.SizeInvalid, $"manifest exceeds the {ManifestParser.MaxManifestBytes}-byte limit", status: StatusCodes.Status413PayloadTooLarge);

    private static ManifestService Manifests(HttpContext context) => context.RequestServices.GetRequiredService<ManifestService>();
}
