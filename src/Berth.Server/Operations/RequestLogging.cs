using System.Diagnostics;

namespace Berth.Server.Operations;

/// <summary>
/// One step on the way out of every request: one structured log line (method, path, status, bytes and duration; never
/// headers, so no credential reaches a log) and the request's metrics (<see cref="RequestMetrics"/>).
/// </summary>
public static partial class RequestLogging
{
    public static IApplicationBuilder UseBerthRequestLogging(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Berth.Requests");
        var metrics = app.ApplicationServices.GetRequiredService<BerthMetrics>();
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            var counting = new RequestMetrics.CountingReadStream(context.Request.Body);
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
                var status = FinalStatus.Of(context, threw);
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (logger.IsEnabled(LogLevel.Information))
                {
                    LogRequest(logger, context.Request.Method, context.Request.Path.Value ?? "", status,
                        context.Response.ContentLength ?? -1, elapsed.TotalMilliseconds, context.TraceIdentifier);
                }
                RequestMetrics.Record(metrics, context, status, counting.BytesRead, elapsed.TotalSeconds);
            }
        });
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Method} {Path} -> {Status} ({Bytes} bytes) in {ElapsedMs:F1} ms [{RequestId}]")]
    private static partial void LogRequest(ILogger logger, string method, string path, int status, long bytes, double elapsedMs, string requestId);
}
