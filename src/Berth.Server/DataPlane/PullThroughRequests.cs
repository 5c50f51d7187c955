using Berth.Core.ArtifactCache;
using Berth.Core.Upstream;
using Berth.Server.Requests;

namespace Berth.Server.DataPlane;

/// <summary>
/// The data plane's side of the artifact cache: which repositories a cache rule fills, containerd's mirror requests
/// (<c>?ns=</c>), the refusal of pushes into a rule's repository, upstream failures as registry errors, and the
/// response a blob fetched for the first time streams into.
/// </summary>
internal static class PullThroughRequests
{
    /// <summary>The cache rule filling the repository, or null for an ordinary repository.</summary>
    public static Task<CachedRepository?> FindAsync(HttpContext context, RepositoryKey repository) =>
        Cache(context).FindAsync(repository, context.RequestAborted);

    public static PullThroughCache Cache(HttpContext context) => context.RequestServices.GetRequiredService<PullThroughCache>();

    /// <summary>
    /// containerd, with Berth as a mirror in <c>hosts.toml</c>, asks for <c>/v2/library/nginx/manifests/latest?ns=docker.io</c>:
    /// the repository as named upstream, and the upstream in <c>ns</c>. A cache rule whose source covers that upstream
    /// repository names the repository of this registry to serve; without one the path is taken as it is. Mapped before
    /// the access step, so the caller needs rights on the repository actually served.
    /// </summary>
    public static async Task<RegistryRoute> MapMirrorRequestAsync(HttpContext context, Registry registry, RegistryRoute route)
    {
        if (route.Resource is not (RegistryResource.Manifest or RegistryResource.Blob)) return route;
        var ns = context.Request.Query["ns"].ToString();
        if (ns.Length == 0 || !Names.IsValidRepository(route.Repository)) return route;
        var target = await context.RequestServices.GetRequiredService<ArtifactCacheService>()
            .FindTargetForUpstreamAsync(registry.Name, ns, route.Repository, context.RequestAborted);
        return target is null ? route : route with { Repository = target };
    }

    /// <summary>
    /// A repository a cache rule fills holds upstream content only, so pushes into it are refused (the rule's target
    /// repository must not exist when the rule is made, for the same reason); delete the rule to push there.
    /// </summary>
    public static async Task EnsurePushAllowedAsync(HttpContext context, RepositoryKey repository)
    {
        if (await FindAsync(context, repository) is { } cached)
        {
            throw new OciException(OciErrorCode.Denied,
                $"repository {repository.Name} is filled from {cached.Rule.SourceRepository} by cache rule '{cached.Rule.Name}'; pushes to it are not allowed",
                new { cacheRule = cached.Rule.Name });
        }
    }

    /// <summary>An upstream failure for content that is not cached: the registry error, naming the upstream and the cause.</summary>
    public static OciException ToOciError(HttpContext context, UpstreamException error)
    {
        var detail = new { upstream = error.Upstream, kind = error.Kind.ToString() };
        switch (error.Kind)
        {
            case UpstreamErrorKind.NotFound:
                var route = RegistryRequests.Get(context)?.Route.Resource;
                return new OciException(route == RegistryResource.Blob ? OciErrorCode.BlobUnknown : OciErrorCode.ManifestUnknown, error.Message, detail);
            case UpstreamErrorKind.Throttled:
                if (error.RetryAfter is { } wait)
                    context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return new OciException(OciErrorCode.TooManyRequests, error.Message, detail);
            default:
                return new OciException(OciErrorCode.Unavailable, error.Message, detail, StatusCodes.Status502BadGateway);
        }
    }

    /// <summary>
    /// The response of the request that started a blob's fetch: the bytes stream into it as they are stored. Once the
    /// handler is done (or the client gone) it takes no more writes, while the fetch goes on for the cache.
    /// </summary>
    public sealed class ResponseSink(HttpContext context, Digest digest, bool isPublic) : IBlobSink, IDisposable
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private bool _closed;

        public async ValueTask StartAsync(long? length)
        {
            await _gate.WaitAsync();
            try
            {
                if (_closed) return;
                var response = context.Response;
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = "application/octet-stream";
                response.ContentLength = length;
                response.Headers[DataPlaneResults.ContentDigestHeader] = digest.ToString();
                CacheHeaders.Apply(response, digest, addressedByDigest: true, isPublic);
                await response.StartAsync(context.RequestAborted);
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask<bool> WriteAsync(ReadOnlyMemory<byte> chunk)
        {
            await _gate.WaitAsync();
            try
            {
                if (_closed || context.RequestAborted.IsCancellationRequested) return false;
                await context.Response.Body.WriteAsync(chunk, context.RequestAborted);
                return true;
            }
            finally
            {
                _gate.Release();
            }
        }

        /// <summary>Called as the handler ends: the response is no longer this sink's to write.</summary>
        public void Dispose()
        {
            _gate.Wait();
            _closed = true;
            _gate.Release();
        }
    }
}
