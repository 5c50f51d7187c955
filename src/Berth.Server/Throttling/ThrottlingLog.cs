namespace Berth.Server.Throttling;

/// <summary>Rejections, one line each. Names and addresses only: never a credential or a token.</summary>
internal static partial class ThrottlingLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information,
        Message = "Throttled {Category} request of {Subject} {Name} on registry {Registry}; retry after {RetryAfterSeconds} s")]
    public static partial void Rejected(ILogger logger, ThrottleCategory category, ThrottleSubject subject, string name, string registry, int retryAfterSeconds);
}
