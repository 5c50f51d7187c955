namespace Berth.Core.Storage;

/// <summary>
/// A shared service Berth depends on (the database, blob storage, Redis) cannot be reached or refused the operation
/// for a transient reason. Providers translate their own connection and timeout failures into this one type so the
/// host answers 503 with a clear message in one place, instead of a 500 with a stack trace. Nothing was changed
/// that the caller was told about; retrying later is safe.
/// </summary>
public sealed class ProviderUnavailableException(string provider, string message, Exception? innerException = null)
    : Exception($"{provider} is unavailable: {message}", innerException)
{
    /// <summary>Which service failed, as an operator names it ("PostgreSQL", "Azure Blob Storage", "Redis").</summary>
    public string Provider { get; } = provider;
}
