using Berth.Core.Content;
using Berth.Core.Upstream;

namespace Berth.Core.Import;

/// <summary>An import that cannot be done (a source's refusal or failure, a conflict), with an ARM-style code for the operation's error.</summary>
public sealed class ImportException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>A manifest as a registry served it: the exact bytes, their media type and their digest.</summary>
public sealed record FetchedManifest(string MediaType, byte[] Content, Digest Digest);

/// <summary>How a blob reached the target repository: linked to bytes the server already holds, or downloaded.</summary>
public enum BlobTransfer { Mounted, Copied }

/// <summary>Where an import reads from: another registry of this server, or a registry elsewhere.</summary>
public interface IImageSource
{
    /// <summary>The source as users name it, for messages.</summary>
    string Name { get; }

    Task<FetchedManifest> GetManifestAsync(string repository, Reference reference, CancellationToken cancellationToken);

    /// <summary>Digests of the manifests whose subject is <paramref name="subject"/>; empty when the source does not tell.</summary>
    Task<IReadOnlyList<Digest>> ListReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken);

    /// <summary>Makes <paramref name="blob"/> part of <paramref name="target"/>, verified against its digest and size.</summary>
    Task<BlobTransfer> TransferBlobAsync(string repository, Descriptor blob, RepositoryKey target, CancellationToken cancellationToken);
}

/// <summary>
/// Another registry on this server. Blobs are stored once per server, so they are mounted: the target repository is
/// linked to the bytes the source repository links, and nothing is copied.
/// </summary>
public sealed class LocalImageSource(Registry registry, ManifestService manifests, IMetadataStore metadata, IBlobStore blobs, ContentLocks locks) : IImageSource
{
    public string Name => registry.LoginServer;

    public async Task<FetchedManifest> GetManifestAsync(string repository, Reference reference, CancellationToken cancellationToken)
    {
        try
        {
            var stored = await manifests.GetAsync(Key(repository), reference, cancellationToken);
            return new FetchedManifest(stored.MediaType, stored.Content, stored.Digest);
        }
        catch (OciException error) when (error.Code == OciErrorCode.ManifestUnknown)
        {
            throw new ImportException("NotFound", $"the source registry {Name} has no manifest {repository}{(reference.IsDigest ? "@" : ":")}{reference} ({reference} not found)");
        }
    }

    public async Task<IReadOnlyList<Digest>> ListReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken) =>
        (await manifests.ListReferrersAsync(Key(repository), subject, null, cancellationToken)).Select(r => r.Digest).ToList();

    public async Task<BlobTransfer> TransferBlobAsync(string repository, Descriptor blob, RepositoryKey target, CancellationToken cancellationToken)
    {
        var size = await metadata.GetLinkedBlobSizeOrNullAsync(Key(repository), blob.Digest, cancellationToken)
            ?? throw new ImportException("NotFound", $"the source registry {Name} has no blob {blob.Digest} in {repository}");
        await locks.EnsureRepositoryWritableAsync(target, cancellationToken);
        if (!await BlobLinking.TryLinkAsync(metadata, blobs, target, blob.Digest, size, cancellationToken))
            throw new ImportException("NotFound", $"the blob {blob.Digest} of {Name}/{repository} was removed by garbage collection while it was being imported");
        return BlobTransfer.Mounted;
    }

    private RepositoryKey Key(string repository) => new(registry.Name, repository);
}

/// <summary>
/// A registry reached over the network, through the registry client the artifact cache uses too. Each blob streams from
/// the source into an upload of the target repository, which hashes it on the way and commits it only when its digest
/// matches; nothing is held in memory.
/// </summary>
public sealed class RemoteImageSource(RegistryClient client, UpstreamEndpoint endpoint, UpstreamCredentials? credentials, UploadService uploads) : IImageSource
{
    public string Name => endpoint.Authority;

    public async Task<FetchedManifest> GetManifestAsync(string repository, Reference reference, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = await client.GetManifestAsync(endpoint, repository, reference.ToString(), credentials, cancellationToken);
            return new FetchedManifest(manifest.MediaType.Length > 0 ? manifest.MediaType : MediaTypes.OciManifest, manifest.Content, manifest.Digest);
        }
        catch (UpstreamException error) when (error.Kind == UpstreamErrorKind.NotFound)
        {
            throw new ImportException("NotFound", $"the source registry {Name} has no manifest {repository}{(reference.IsDigest ? "@" : ":")}{reference} ({reference} not found)");
        }
        catch (UpstreamException error)
        {
            throw ToImportException(error);
        }
    }

    public async Task<IReadOnlyList<Digest>> ListReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken)
    {
        try
        {
            return await client.ListReferrersAsync(endpoint, repository, subject, credentials, cancellationToken);
        }
        catch (UpstreamException error)
        {
            throw ToImportException(error);
        }
    }

    public async Task<BlobTransfer> TransferBlobAsync(string repository, Descriptor blob, RepositoryKey target, CancellationToken cancellationToken)
    {
        UpstreamBlob download;
        try
        {
            download = await client.GetBlobAsync(endpoint, repository, blob.Digest, credentials, cancellationToken);
        }
        catch (UpstreamException error) when (error.Kind == UpstreamErrorKind.NotFound)
        {
            throw new ImportException("NotFound", $"the source registry {Name} has no blob {blob.Digest} in {repository}");
        }
        catch (UpstreamException error)
        {
            throw ToImportException(error);
        }
        using (download)
        {
            if (download.Length is { } length && length != blob.Size)
                throw SizeMismatch(repository, blob, length);
            await using var body = new BoundedStream(download.Content, blob.Size);
            var session = await uploads.StartAsync(target, cancellationToken);
            try
            {
                await uploads.AppendAsync(target, session.Id, body, default, cancellationToken);
            }
            catch (Exception error) when (error is IOException or HttpRequestException)
            {
                await uploads.CancelAsync(target, session.Id, CancellationToken.None);
                throw new ImportException("SourceUnreachable", $"the source registry {Name} broke off the download of blob {blob.Digest}: {error.Message}");
            }
            catch
            {
                await uploads.CancelAsync(target, session.Id, CancellationToken.None);
                throw;
            }
            CommittedBlob committed;
            try
            {
                // Finishing verifies the digest and discards the upload itself when it does not match.
                committed = await uploads.FinishAsync(target, session.Id, blob.Digest, null, default, cancellationToken);
            }
            catch (OciException error) when (error.Code == OciErrorCode.DigestInvalid)
            {
                throw new ImportException("DigestMismatch", $"the source registry {Name} served blob {blob.Digest} of {repository} with other content: {error.Message}");
            }
            if (committed.Size != blob.Size) throw SizeMismatch(repository, blob, committed.Size);
            return BlobTransfer.Copied;
        }
    }

    /// <summary>An upstream failure as an import's error: the operation's code, and the message naming the source.</summary>
    public static ImportException ToImportException(UpstreamException error)
    {
        var code = error.Kind switch
        {
            UpstreamErrorKind.NotFound => "NotFound",
            UpstreamErrorKind.Unauthorized => "Unauthorized",
            UpstreamErrorKind.Refused => "SourceNotAllowed",
            UpstreamErrorKind.Unreachable => "SourceUnreachable",
            _ => "SourceRegistryError",
        };
        var cause = error.Kind == UpstreamErrorKind.Unauthorized && error.Cause.StartsWith("requires credentials", StringComparison.Ordinal)
            ? error.Cause + "; give a username and password"
            : error.Cause;
        return new ImportException(code, $"the source registry {error.Upstream} {cause}");
    }

    private ImportException SizeMismatch(string repository, Descriptor blob, long actual) =>
        new("DigestMismatch", $"the source registry {Name} served blob {blob.Digest} of {repository} with {actual} bytes; its manifest says {blob.Size}");

    /// <summary>Reads at most the declared size (plus one byte, to notice more); a source cannot fill the disk with a lie.</summary>
    private sealed class BoundedStream(Stream inner, long declared) : Stream
    {
        private long _read;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var allowed = declared + 1 - _read;
            if (allowed <= 0) throw new ImportException("DigestMismatch", $"a blob sent more bytes than the {declared} its manifest declares");
            var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, allowed)], cancellationToken);
            _read += read;
            if (_read > declared) throw new ImportException("DigestMismatch", $"a blob sent more bytes than the {declared} its manifest declares");
            return read;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
