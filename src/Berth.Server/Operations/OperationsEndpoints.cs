namespace Berth.Server.Operations;

/// <summary>Liveness and readiness probes. They are never behind authentication so orchestrators can reach them.</summary>
public static class OperationsEndpoints
{
    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (Berth.Core.Storage.IMetadataStore metadata, CancellationToken ct) =>
            await metadata.IsReadyAsync(ct) ? Results.Text("ready\n") : Results.Text("not ready\n", statusCode: 503));
        return app;
    }
}
