using Berth.Core.Content;

namespace Berth.Core.Import;

/// <summary>
/// Opens import sources: a registry of this server, or a registry elsewhere through the one guarded HTTP client
/// (connections pooled across imports, every connection checked by <see cref="OutboundRequestGuard"/>).
/// </summary>
public sealed class ImageSourceFactory(OutboundRequestGuard guard, ManifestService manifests, UploadService uploads, IMetadataStore metadata, IBlobStore blobs, ContentLocks locks)
    : IDisposable
{
    private readonly HttpClient _http = new(guard.CreateHandler()) { Timeout = TimeSpan.FromMinutes(2) };

    public OutboundRequestGuard Guard => guard;

    public IImageSource Local(Registry registry) => new LocalImageSource(registry, manifests, metadata, blobs, locks);

    public IImageSource Remote(Uri baseUri, SourceCredentials? credentials) =>
        new RemoteImageSource(new SourceRegistryClient(_http, baseUri, credentials), uploads);

    public void Dispose() => _http.Dispose();
}
