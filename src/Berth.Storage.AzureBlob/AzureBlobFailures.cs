using System.Net.Sockets;
using Azure;
using Berth.Core.Storage;

namespace Berth.Storage.AzureBlob;

/// <summary>
/// The one place that decides which failures of the storage service are "unavailable" (the host answers 503 and the
/// client retries) rather than bugs: connection failures, timeouts, throttling and 5xx, after the SDK's own short retries.
/// </summary>
internal static class AzureBlobFailures
{
    public const string Provider = "Azure Blob Storage";

    /// <summary>True for a transient failure of the service; never for the caller's own cancellation.</summary>
    public static bool IsUnavailable(Exception error, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested && IsTransient(error);

    private static bool IsTransient(Exception error) => error switch
    {
        RequestFailedException failed => failed.Status is 0 or 408 or 429 or >= 500,
        // The SDK reports "retry failed after N tries" as an aggregate of the individual attempts.
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient),
        HttpRequestException or SocketException or IOException or TimeoutException => true,
        // Azure.Core signals its network timeout as a cancellation the caller did not ask for.
        OperationCanceledException => true,
        _ => false,
    };

    public static ProviderUnavailableException Unavailable(Exception error) => new(Provider, Describe(error), error);

    private static string Describe(Exception error) => error switch
    {
        AggregateException aggregate when aggregate.InnerExceptions.Count > 0 => Describe(aggregate.InnerExceptions[^1]),
        RequestFailedException { Status: 0 } failed => failed.InnerException is { } inner ? Describe(inner) : "the storage service could not be reached",
        RequestFailedException failed => $"the storage service answered {failed.Status} ({failed.ErrorCode ?? "no error code"})",
        OperationCanceledException or TimeoutException => "the storage service did not answer in time",
        HttpRequestException { InnerException: SocketException socket } => $"the storage service could not be reached ({socket.SocketErrorCode})",
        _ => "the storage service could not be reached",
    };

    /// <summary>Runs one call to the service, translating transient failures.</summary>
    public static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call();
        }
        catch (Exception error) when (IsUnavailable(error, cancellationToken))
        {
            throw Unavailable(error);
        }
    }

    public static async Task CallAsync(Func<Task> call, CancellationToken cancellationToken)
    {
        try
        {
            await call();
        }
        catch (Exception error) when (IsUnavailable(error, cancellationToken))
        {
            throw Unavailable(error);
        }
    }
}
