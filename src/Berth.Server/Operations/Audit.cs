namespace Berth.Server.Operations;

/// <summary>
/// The audit trail: authentication failures and management changes, as structured events in the logger category
/// <c>Berth.Audit</c>, so they can be routed to their own sink. Never a secret: no password, token or Authorization
/// value, and not the presented user name either (clients put tokens there).
/// </summary>
public static partial class Audit
{
    public const string Category = "Berth.Audit";

    private static ILogger Logger(HttpContext context) => context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(Category);

    private static string Client(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>Credentials presented on <c>/v2</c> or <c>/acr/v1</c> were rejected.</summary>
    public static void DataPlaneAuthenticationFailed(HttpContext context, string registry, AuthenticationFailure failure) =>
        LogDataPlaneAuthenticationFailed(Logger(context), registry, failure.ToString(), context.Request.Method, context.Request.Path.Value ?? "", Client(context), context.TraceIdentifier);

    /// <summary>The token service refused a token request.</summary>
    public static void TokenRequestRefused(HttpContext context, string registry, AuthenticationFailure failure) =>
        LogTokenRequestRefused(Logger(context), registry, failure.ToString(), context.Request.Path.Value ?? "", Client(context), context.TraceIdentifier);

    /// <summary>A token request was answered without the refresh token it asked for.</summary>
    public static void RefreshTokenRefused(HttpContext context, string registry, string reason) =>
        LogRefreshTokenRefused(Logger(context), registry, reason, context.Request.Path.Value ?? "", Client(context), context.TraceIdentifier);

    /// <summary>A management request came without a valid management token.</summary>
    public static void ManagementAuthenticationFailed(HttpContext context, string reason) =>
        LogManagementAuthenticationFailed(Logger(context), reason, context.Request.Method, context.Request.Path.Value ?? "", Client(context), context.TraceIdentifier);

    /// <summary>A management sign-in (service principal or managed identity token request) was refused.</summary>
    public static void SignInRefused(HttpContext context, int status) =>
        LogSignInRefused(Logger(context), context.Request.Path.Value ?? "", status, Client(context), context.TraceIdentifier);

    /// <summary>
    /// An endpoint filter on the management plane: every request that may change something (anything but GET and HEAD)
    /// is recorded with its caller and outcome once it completes.
    /// </summary>
    public static async ValueTask<object?> RecordManagementChangesAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var threw = false;
        try
        {
            return await next(invocation);
        }
        catch
        {
            threw = true;
            throw;
        }
        finally
        {
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
                && context.Features.Get<Berth.Core.Management.ManagementCaller>() is { } caller)
            {
                LogManagementChange(Logger(context), caller.ClientId, caller.DisplayName, context.Request.Method, context.Request.Path.Value ?? "",
                    FinalStatus.Of(context, threw), Client(context), context.TraceIdentifier);
            }
        }
    }

    [LoggerMessage(EventId = 100, EventName = "DataPlaneAuthenticationFailed", Level = LogLevel.Warning,
        Message = "Authentication failed on registry {Registry}: {Failure} for {Method} {Path} from {Client} [{RequestId}]")]
    private static partial void LogDataPlaneAuthenticationFailed(ILogger logger, string registry, string failure, string method, string path, string client, string requestId);

    [LoggerMessage(EventId = 101, EventName = "TokenRequestRefused", Level = LogLevel.Warning,
        Message = "Token request refused on registry {Registry}: {Failure} at {Path} from {Client} [{RequestId}]")]
    private static partial void LogTokenRequestRefused(ILogger logger, string registry, string failure, string path, string client, string requestId);

    [LoggerMessage(EventId = 102, EventName = "ManagementAuthenticationFailed", Level = LogLevel.Warning,
        Message = "Management authentication failed: {Reason} for {Method} {Path} from {Client} [{RequestId}]")]
    private static partial void LogManagementAuthenticationFailed(ILogger logger, string reason, string method, string path, string client, string requestId);

    [LoggerMessage(EventId = 103, EventName = "SignInRefused", Level = LogLevel.Warning,
        Message = "Management sign-in refused at {Path} with {Status} from {Client} [{RequestId}]")]
    private static partial void LogSignInRefused(ILogger logger, string path, int status, string client, string requestId);

    [LoggerMessage(EventId = 104, EventName = "RefreshTokenRefused", Level = LogLevel.Warning,
        Message = "Refresh token refused on registry {Registry}: {Reason} at {Path} from {Client} [{RequestId}]")]
    private static partial void LogRefreshTokenRefused(ILogger logger, string registry, string reason, string path, string client, string requestId);

    [LoggerMessage(EventId = 110, EventName = "ManagementChange", Level = LogLevel.Information,
        Message = "Management change by {ClientId} ({DisplayName}): {Method} {Path} -> {Status} from {Client} [{RequestId}]")]
    private static partial void LogManagementChange(ILogger logger, string clientId, string displayName, string method, string path, int status, string client, string requestId);
}
