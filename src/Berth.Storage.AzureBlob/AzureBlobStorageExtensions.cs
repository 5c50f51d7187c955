using System.Text.RegularExpressions;
using Azure.Core;
using Azure.Storage.Blobs;
using Berth.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Storage.AzureBlob;

public static partial class AzureBlobStorageExtensions
{
    /// <summary>Registers the Azure Blob Storage blob store (call <see cref="Validate"/> first).</summary>
    public static IServiceCollection AddAzureBlobStore(this IServiceCollection services, AzureBlobStorageOptions options) =>
        services.AddSingleton<IBlobStore>(provider => new AzureBlobStore(CreateContainerClient(options), options, provider.GetService<TimeProvider>()));

    /// <summary>
    /// A client that gives up quickly: two short retries and a bounded network timeout, so an unreachable storage service
    /// turns into a 503 within seconds instead of holding requests for minutes (the SDK's defaults).
    /// </summary>
    internal static BlobContainerClient CreateContainerClient(AzureBlobStorageOptions options)
    {
        var clientOptions = new BlobClientOptions();
        clientOptions.Retry.Mode = RetryMode.Exponential;
        clientOptions.Retry.MaxRetries = 2;
        clientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        clientOptions.Retry.MaxDelay = TimeSpan.FromSeconds(1);
        clientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        return new BlobServiceClient(options.ConnectionString, clientOptions).GetBlobContainerClient(options.ContainerName);
    }

    /// <summary>Stops start-up with a message naming the setting at fault and what it should look like.</summary>
    public static void Validate(AzureBlobStorageOptions options)
    {
        const string section = "Berth:Storage:AzureBlob";
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            throw new InvalidOperationException(
                $"{section}:ConnectionString is required when Berth:Storage:Type is AzureBlob " +
                "(for example \"DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey=...;EndpointSuffix=core.windows.net\").");
        if (!ContainerNamePattern().IsMatch(options.ContainerName ?? ""))
            throw new InvalidOperationException(
                $"{section}:ContainerName \"{options.ContainerName}\" is not a valid container name: 3 to 63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.");
        BlobContainerClient container;
        try
        {
            container = CreateContainerClient(options);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or UriFormatException)
        {
            // The SDK's message may quote the string; never echo the account key into a log.
            throw new InvalidOperationException(
                $"{section}:ConnectionString is not a valid Azure Storage connection string ({e.GetType().Name}); " +
                "expected \"DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net\" or one with BlobEndpoint=...", null);
        }
        if (options.RedirectDownloads && !container.CanGenerateSasUri)
            throw new InvalidOperationException(
                $"{section}:RedirectDownloads needs an AccountKey in {section}:ConnectionString to sign the download URLs; add it or turn redirects off.");
        if (options.RedirectLifetime <= TimeSpan.Zero || options.RedirectLifetime > TimeSpan.FromDays(7))
            throw new InvalidOperationException($"{section}:RedirectLifetime must be between 00:00:01 and 7.00:00:00 (it is {options.RedirectLifetime}).");
    }

    [GeneratedRegex("^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex ContainerNamePattern();
}
