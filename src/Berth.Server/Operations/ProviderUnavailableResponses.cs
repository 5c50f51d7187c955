using Berth.Server.Requests;

namespace Berth.Server.Operations;

/// <summary>
/// The one place that turns <see cref="ProviderUnavailableException"/> (the database, blob storage or Redis cannot be
/// reached) into 503 with <c>Retry-After</c>, in the error shape the endpoint's <see cref="EndpointGroup"/> declares: OCI
/// errors on the registry, token and ACR APIs, ARM error JSON on the management plane, OAuth errors on its sign-in
/// endpoints. Clients then retry instead of seeing a 500, and the log gets one warning line naming the service rather
/// than a stack trace per request.
/// </summary>
public static partial class ProviderUnavailableResponses
{
    /// <summary>Seconds a client is asked to wait; long enough for a restarted service, short enough for pushes to resume.</summary>
    public const int RetryAfterSeconds = 5;

    public static IApplicationBuilder UseProviderUnavailableResponses(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Berth.Providers");
        return app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (ProviderUnavailableException error) when (!context.Response.HasStarted)
            {
                LogUnavailable(logger, error.Provider, context.Request.Method, context.Request.Path.Value ?? "", error.Message);
                context.Response.Clear();
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
                var message = error.Message + "; retry later.";
                var write = context.GetEndpoint()?.Metadata.GetMetadata<EndpointGroup>()?.WriteUnavailableAsync ?? WritePlainTextAsync;
                await write(context, message);
            }
        });
    }

    /// <summary>Probes, metrics and unmatched paths: plain text, which is all their callers read.</summary>
    public static Task WritePlainTextAsync(HttpContext context, string message)
    {
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "{Provider} unavailable; answered {Method} {Path} with 503: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string provider, string method, string path, string reason);
}
