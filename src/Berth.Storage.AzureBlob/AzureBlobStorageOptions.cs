namespace Berth.Storage.AzureBlob;

/// <summary>The <c>Berth:Storage:AzureBlob</c> section: where blob and upload bytes live when <c>Berth:Storage:Type</c> is <c>AzureBlob</c>.</summary>
public sealed class AzureBlobStorageOptions
{
    /// <summary>
    /// The storage account's connection string (required), e.g. <c>DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net</c>.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>The container that holds everything (blobs, uploads, quarantine); created when missing.</summary>
    public string ContainerName { get; set; } = "berth";

    /// <summary>
    /// Answer blob downloads with a redirect to a short-lived, read-only SAS URL, so the bytes flow from the storage
    /// service to the client instead of through Berth. Needs an account key in the connection string to sign the URLs.
    /// </summary>
    public bool RedirectDownloads { get; set; }

    /// <summary>How long a redirect URL stays valid: long enough to start a large download, short enough not to leak.</summary>
    public TimeSpan RedirectLifetime { get; set; } = TimeSpan.FromMinutes(10);
}
