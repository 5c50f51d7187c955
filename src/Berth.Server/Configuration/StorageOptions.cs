using Berth.Storage.AzureBlob;

namespace Berth.Server.Configuration;

/// <summary>The <c>Berth:Storage</c> section: which blob provider keeps layer and upload bytes.</summary>
public sealed class StorageOptions
{
    /// <summary><c>FileSystem</c> (default: under the data folder) or <c>AzureBlob</c> (a container shared by several nodes).</summary>
    public string Type { get; set; } = BerthProviders.FileSystem;

    /// <summary>The <c>Berth:Storage:AzureBlob</c> settings; used with <c>AzureBlob</c> only.</summary>
    public AzureBlobStorageOptions AzureBlob { get; set; } = new();
}
