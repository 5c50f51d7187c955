using System.Diagnostics;

namespace Berth.Server.Operations;

/// <summary>One structured log line per request: method, path, status, bytes and duration. Never headers, so no credential reaches a log.</summary>
public static partial class RequestLogging
{
    public static IApplicationBuilder UseBerthRequestLogging(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("Berth.Requests");
        return app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
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
                if (logger.IsEnabled(LogLevel.Information))
                {
                    LogRequest(logger, context.Request.Method, context.Request.Path.Value ?? "", FinalStatus.Of(context, threw),
                        context.Response.ContentLength ?? -1, Stopwatch.GetElapsedTime(started).TotalMilliseconds, context.TraceIdentifier);
                }
            }
        });
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Method} {Path} -> {Status} ({Bytes} bytes) in {ElapsedMs:F1} ms [{RequestId}]")]
    private static partial void LogRequest(ILogger logger, string method, string path, int status, long bytes, double elapsedMs, string requestId);
}
