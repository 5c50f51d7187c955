using Berth.Core.ArtifactCache;
using Berth.Core.Content;
using Berth.Core.Outbound;
using Berth.Core.Upstream;

namespace Berth.Core.Import;

/// <summary>
/// Opens import sources: a registry of this server, or a registry elsewhere through one registry client (connections
/// pooled across imports, every connection checked by import's <see cref="DestinationGuard"/>, which also allows the
/// sources listed in <c>Berth:Import:AllowedSources</c>).
/// </summary>
public sealed class ImageSourceFactory(DestinationGuard destinations, IOptions<ArtifactCacheOptions> options, TimeProvider time,
    ManifestService manifests, UploadService uploads, IMetadataStore metadata, IBlobStore blobs, ContentLocks locks) : IDisposable
{
    /// <summary>The setting that lists the sources an import may reach on restricted addresses.</summary>
    public const string AllowedSourcesSetting = "Berth:Import:AllowedSources";

    private readonly RegistryClient _client = new(destinations, options.Value, time, "Berth-Import/1.0");

    public IImageSource Local(Registry registry) => new LocalImageSource(registry, manifests, metadata, blobs, locks);

    public IImageSource Remote(UpstreamEndpoint endpoint, UpstreamCredentials? credentials) => new RemoteImageSource(_client, endpoint, credentials, uploads);

    /// <summary>The endpoint for a source registry as the caller wrote it (<c>host[:port]</c>, or a URL with a scheme).</summary>
    public UpstreamEndpoint EndpointFor(string registryUri)
    {
        try
        {
            return _client.EndpointFor(registryUri);
        }
        catch (FormatException error)
        {
            throw new ImportException("InvalidParameter", error.Message);
        }
    }

    /// <summary>Refuses a source the guard will not let an import reach, before any work starts.</summary>
    public async Task EnsureAllowedAsync(UpstreamEndpoint endpoint, CancellationToken cancellationToken)
    {
        try
        {
            await _client.EnsureReachableAsync(endpoint, cancellationToken);
        }
        catch (UpstreamException error)
        {
            throw RemoteImageSource.ToImportException(error);
        }
    }

    public void Dispose() => _client.Dispose();
}
