namespace Berth.Server.Operations;

/// <summary>
/// The status a request really ended with, for code that looks at it on the way out (logs, audit, metrics). An
/// exception that escapes before the response has started leaves <c>Response.StatusCode</c> at its default 200;
/// the host then answers 500, so that is what must be recorded.
/// </summary>
internal static class FinalStatus
{
    public static int Of(HttpContext context, bool threw) =>
        threw && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
}
