using Berth.Core.Storage;
using Berth.Oci;

namespace Berth.Storage.FileSystem;

/// <summary>
/// Blobs as files under <c>blobs/&lt;algorithm&gt;/&lt;first two hex digits&gt;/&lt;encoded&gt;</c>, uploads under
/// <c>uploads/&lt;id&gt;</c> on the same file system so that committing is an atomic rename.
/// </summary>
internal sealed class FileSystemBlobStore : IBlobStore
{
    private const int BufferSize = 1 << 20;
    private readonly string _blobRoot;
    private readonly string _uploadRoot;

    public FileSystemBlobStore(string root)
    {
        _blobRoot = Path.Combine(root, "blobs");
        _uploadRoot = Path.Combine(root, "uploads");
        Directory.CreateDirectory(_blobRoot);
        Directory.CreateDirectory(_uploadRoot);
    }

    public Task<long?> GetSizeOrNullAsync(Digest digest, CancellationToken cancellationToken)
    {
        var info = new FileInfo(BlobPath(digest));
        return Task.FromResult<long?>(info.Exists ? info.Length : null);
    }

    public Task<BlobContent?> OpenOrNullAsync(Digest digest, CancellationToken cancellationToken)
    {
        var path = BlobPath(digest);
        try
        {
            var stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read | FileShare.Delete,
                BufferSize = 0, Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
            return Task.FromResult<BlobContent?>(new BlobContent(stream, stream.Length, path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<BlobContent?>(null);
        }
    }

    public Task DeleteAsync(Digest digest, CancellationToken cancellationToken)
    {
        File.Delete(BlobPath(digest));
        return Task.CompletedTask;
    }

    public Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        using (new FileStream(UploadPath(uploadId), FileMode.CreateNew, FileAccess.Write)) { }
        return Task.CompletedTask;
    }

    public Task<Stream?> OpenUploadForAppendOrNullAsync(string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            Stream stream = new FileStream(UploadPath(uploadId), new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Write, Share = FileShare.None,
                BufferSize = 0, Options = FileOptions.Asynchronous,
            });
            stream.Seek(0, SeekOrigin.End);
            return Task.FromResult<Stream?>(stream);
        }
        catch (FileNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<Stream?> OpenUploadForReadOrNullAsync(string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(UploadPath(uploadId), FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan));
        }
        catch (FileNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<long?> GetUploadSizeOrNullAsync(string uploadId, CancellationToken cancellationToken)
    {
        var info = new FileInfo(UploadPath(uploadId));
        return Task.FromResult<long?>(info.Exists ? info.Length : null);
    }

    public Task CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken)
    {
        var source = UploadPath(uploadId);
        var target = BlobPath(digest);
        if (File.Exists(target))
        {
            File.Delete(source);
            return Task.CompletedTask;
        }
        // Durable before visible: fsync the bytes, rename atomically, then fsync the directory so the rename survives a crash.
        using (var handle = File.OpenHandle(source, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.FlushToDisk(handle);
        }
        var directory = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(directory);
        File.Move(source, target, overwrite: true);
        FlushDirectory(directory);
        return Task.CompletedTask;
    }

    public Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        File.Delete(UploadPath(uploadId));
        return Task.CompletedTask;
    }

    private static void FlushDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            using var handle = File.OpenHandle(directory, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (UnauthorizedAccessException)
        {
            // Some file systems refuse to open directories; the rename is still atomic, only its durability is weaker.
        }
    }

    private string BlobPath(Digest digest) => Path.Combine(_blobRoot, digest.Algorithm, digest.Encoded[..2], digest.Encoded);

    /// <summary>Upload ids are generated by the server (hex GUIDs); anything else never reaches the file system.</summary>
    private string UploadPath(string uploadId)
    {
        if (uploadId.Length != 32 || !uploadId.All(char.IsAsciiHexDigitLower))
            throw new ArgumentException("malformed upload id", nameof(uploadId));
        return Path.Combine(_uploadRoot, uploadId);
    }
}
