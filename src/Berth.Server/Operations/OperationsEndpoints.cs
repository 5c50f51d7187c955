using Berth.Redis;
using Berth.Server.Requests;

namespace Berth.Server.Operations;

/// <summary>Liveness and readiness probes and Prometheus metrics. They are never behind authentication so orchestrators and scrapers can reach them.</summary>
public static class OperationsEndpoints
{
    private static readonly EndpointGroup Group = new("operations", ProviderUnavailableResponses.WritePlainTextAsync);

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        var operations = app.MapGroup("").WithMetadata(Group);
        operations.MapGet("/healthz", () => Results.Text("ok\n"));
        // With Redis configured a node serves nothing without it (every request reads its cache generations there).
        operations.MapGet("/readyz", async (IMetadataStore metadata, IServiceProvider services, CancellationToken ct) =>
            await metadata.IsReadyAsync(ct) && (services.GetService<RedisConnection>() is not { } redis || await redis.IsReadyAsync())
                ? Results.Text("ready\n")
                : Results.Text("not ready\n", statusCode: 503));
        operations.MapGet("/metrics", async (HttpContext context, BerthMetrics metrics, IBlobStore blobs, Core.ArtifactCache.PullThroughCache cache, CancellationToken ct) =>
        {
            // Upload areas on the store are the sessions in progress (expired ones until garbage collection removes them).
            long uploads = 0;
            await foreach (var _ in blobs.ListUploadsAsync(ct)) uploads++;
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.WriteAsync(context.Response.Body, uploads, cache.Counters, ct);
        });
        return app;
    }
}
