using System.Collections.Concurrent;
using Berth.Core.Import;
using Berth.Core.Upstream;

namespace Berth.Server.Management;

/// <summary>An import as ARM's operation status resource shows it; <see cref="Result"/> is Berth's addition.</summary>
internal sealed class ImportOperation(string id, string registry, DateTimeOffset startTime)
{
    public const string InProgress = "InProgress";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";

    // Written once by the import's task and read by polls on other threads: the status is published last.
    private volatile string _status = InProgress;

    public string Id { get; } = id;
    public string Registry { get; } = registry;
    public DateTimeOffset StartTime { get; } = startTime;
    public string Status => _status;
    public DateTimeOffset? EndTime { get; private set; }
    public (string Code, string Message)? Error { get; private set; }
    public ImportResult? Result { get; private set; }

    public void Finish(DateTimeOffset endTime, ImportResult? result, (string Code, string Message)? error)
    {
        Result = result;
        Error = error;
        EndTime = endTime;
        _status = error is null ? Succeeded : Failed;
    }
}

/// <summary>
/// Imports running in the background, as ACR's long-running <c>importImage</c>: started by the POST, polled through the
/// operation status resource, stopped with the server. Operations are kept in this node's memory for a day after they
/// end; behind a load balancer the poll must reach the node that took the POST (sticky sessions), which is why the
/// status URL carries no more than the id and the registry.
/// </summary>
internal sealed partial class ImportOperations(IHostApplicationLifetime lifetime, TimeProvider time, ILogger<ImportOperations> logger)
{
    private static readonly TimeSpan Kept = TimeSpan.FromDays(1);
    private readonly ConcurrentDictionary<string, ImportOperation> _operations = new(StringComparer.Ordinal);

    public ImportOperation Start(string registry, Func<CancellationToken, Task<ImportResult>> import)
    {
        Forget();
        var operation = new ImportOperation(Guid.NewGuid().ToString("D"), registry, time.GetUtcNow());
        _operations[operation.Id] = operation;
        _ = Task.Run(() => RunAsync(operation, import));
        return operation;
    }

    public ImportOperation? GetOrNull(string registry, string id) =>
        _operations.TryGetValue(id, out var operation) && operation.Registry == registry ? operation : null;

    private async Task RunAsync(ImportOperation operation, Func<CancellationToken, Task<ImportResult>> import)
    {
        try
        {
            var result = await import(lifetime.ApplicationStopping);
            ImportSucceeded(logger, operation.Id, operation.Registry, result.Digest.ToString(), result.BlobsCopied, result.BlobsMounted);
            operation.Finish(time.GetUtcNow(), result, null);
        }
        catch (Exception thrown)
        {
            var error = thrown is UpstreamException upstream ? RemoteImageSource.ToImportException(upstream) : thrown;
            var (code, message) = error switch
            {
                ImportException failure => (failure.Code, failure.Message),
                OciException oci => (oci.Code.ToString(), oci.Message),
                OperationCanceledException when lifetime.ApplicationStopping.IsCancellationRequested => ("OperationCanceled", "the server stopped before the import finished; nothing of it was kept"),
                _ => ("InternalServerError", "the import failed unexpectedly; the server log has the details"),
            };
            if (code == "InternalServerError") ImportCrashed(logger, error, operation.Id, operation.Registry);
            else ImportFailed(logger, operation.Id, operation.Registry, code, message);
            operation.Finish(time.GetUtcNow(), null, (code, message));
        }
    }

    private void Forget()
    {
        var cutoff = time.GetUtcNow() - Kept;
        foreach (var (id, operation) in _operations)
        {
            if (operation.EndTime < cutoff) _operations.TryRemove(id, out _);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Import {OperationId} into {Registry} succeeded: {Digest}, {Copied} blobs copied, {Mounted} mounted")]
    private static partial void ImportSucceeded(ILogger logger, string operationId, string registry, string digest, int copied, int mounted);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Import {OperationId} into {Registry} failed: {Code}: {Message}")]
    private static partial void ImportFailed(ILogger logger, string operationId, string registry, string code, string message);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Import {OperationId} into {Registry} failed unexpectedly")]
    private static partial void ImportCrashed(ILogger logger, Exception error, string operationId, string registry);
}
