namespace Berth.Server.DataPlane;

/// <summary>
/// Cache headers of content responses. Content addressed by digest never changes, so a CDN or caching proxy in front of
/// Berth may keep it for good, but only when it is public: a response to a request with credentials is kept by a shared
/// cache only when marked <c>public</c>, and private content must never be. A tag can move, so a tag-addressed answer
/// is revalidated (its ETag is the digest) and never marked public.
/// </summary>
internal static class CacheHeaders
{
    public const string PublicImmutable = "public, max-age=31536000, immutable";
    public const string PrivateImmutable = "private, max-age=31536000, immutable";
    public const string Revalidate = "no-cache";

    public static void Apply(HttpResponse response, Digest digest, bool addressedByDigest, bool isPublic)
    {
        response.Headers.ETag = $"\"{digest}\"";
        response.Headers.CacheControl = !addressedByDigest ? Revalidate : isPublic ? PublicImmutable : PrivateImmutable;
    }
}
