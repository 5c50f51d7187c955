using Berth.Core.Files;
using Berth.Core.Storage;
using Berth.Oci;

namespace Berth.Storage.FileSystem;

/// <summary>
/// Blobs as files under <c>blobs/&lt;algorithm&gt;/&lt;first two hex digits&gt;/&lt;encoded&gt;</c>, uploads under
/// <c>uploads/&lt;id&gt;</c> on the same file system so that committing is an atomic rename. Image content is private
/// to the server's user: folders are created 0700 and files 0600 (an upload becomes the blob, keeping its mode).
/// </summary>
internal sealed class FileSystemBlobStore : IBlobStore
{
    private const int BufferSize = 1 << 20;
    private readonly string _blobRoot;
    private readonly string _uploadRoot;
    private readonly string _quarantineRoot;
    private readonly TimeProvider _time;

    public FileSystemBlobStore(string root, string? quarantineRoot = null, TimeProvider? time = null)
    {
        _blobRoot = Path.Combine(root, "blobs");
        _uploadRoot = Path.Combine(root, "uploads");
        _quarantineRoot = quarantineRoot ?? Path.GetFullPath(Path.Combine(root, "..", "quarantine"));
        _time = time ?? TimeProvider.System;
        PrivateFiles.EnsureDirectory(root);
        PrivateFiles.EnsureDirectory(_blobRoot);
        PrivateFiles.EnsureDirectory(_uploadRoot);
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
            return Task.FromResult<BlobContent?>(new BlobContent(stream, stream.Length));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<BlobContent?>(null);
        }
    }

    /// <summary>Local files have no URL of their own; downloads go through Berth.</summary>
    public Task<Uri?> GetDownloadRedirectOrNullAsync(Digest digest, CancellationToken cancellationToken) => Task.FromResult<Uri?>(null);

    public Task DeleteAsync(Digest digest, CancellationToken cancellationToken)
    {
        File.Delete(BlobPath(digest));
        return Task.CompletedTask;
    }

    public Task CreateUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = PrivateFiles.SecretMode;
        using (new FileStream(UploadPath(uploadId), options)) { }
        return Task.CompletedTask;
    }

    public Task<Stream?> OpenUploadForAppendOrNullAsync(string uploadId, CancellationToken cancellationToken)
    {
        try
        {
            var handle = File.OpenHandle(UploadPath(uploadId), FileMode.Open, FileAccess.Write, FileShare.None);
            return Task.FromResult<Stream?>(new UploadFileStream(handle));
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
            if (OperatingSystem.IsWindows())
                return Task.FromResult<Stream?>(new FileStream(UploadPath(uploadId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, BufferSize, FileOptions.SequentialScan));
            // Read while the upload is being appended to (the artifact cache's other clients follow a fetch this way):
            // .NET's own open would take a shared advisory lock, which the appending handle's exclusive one refuses.
            var fd = UnixFiles.OpenForReadingWithoutLock(UploadPath(uploadId));
            return Task.FromResult<Stream?>(fd is null ? null : new FileStream(fd, FileAccess.Read, BufferSize));
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
        // The commit time becomes the blob's modification time (IBlobStore's promise to garbage collection). If the blob
        // is already there, refreshing it succeeds only while it is in place; if a collection moved it away meanwhile,
        // the refresh fails and the bytes are stored again below.
        if (File.Exists(target) && TryTouch(target))
        {
            File.Delete(source);
            return Task.CompletedTask;
        }
        // Durable before visible: fsync the bytes, rename atomically, then fsync the directory so the rename survives a crash.
        using (var handle = File.OpenHandle(source, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.FlushToDisk(handle);
        }
        File.SetLastWriteTimeUtc(source, _time.GetUtcNow().UtcDateTime);
        var directory = Path.GetDirectoryName(target)!;
        CreatePrivateDirectory(directory);
        File.Move(source, target, overwrite: true);
        FlushDirectory(directory);
        return Task.CompletedTask;
    }

    public Task DeleteUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        File.Delete(UploadPath(uploadId));
        return Task.CompletedTask;
    }

    public Task<bool> RefreshAsync(Digest digest, CancellationToken cancellationToken) => Task.FromResult(TryTouch(BlobPath(digest)));

    private bool TryTouch(string path)
    {
        try
        {
            File.SetLastWriteTimeUtc(path, _time.GetUtcNow().UtcDateTime);
            return true;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    public async IAsyncEnumerable<StoredBlobInfo> ListBlobsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (var file in new DirectoryInfo(_blobRoot).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var name = Path.GetRelativePath(_blobRoot, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (SizeAndTime(file) is not { } stat) continue;
            yield return new StoredBlobInfo(name, DigestOf(name), stat.Size, stat.Modified);
        }
    }

    /// <summary>A listed file's size and last write time; null when it was deleted since it was listed.</summary>
    private static (long Size, DateTimeOffset Modified)? SizeAndTime(FileInfo file)
    {
        try
        {
            return (file.Length, file.LastWriteTimeUtc);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The digest a key names when it is exactly where that digest is stored (<c>alg/xx/encoded</c>), else null.</summary>
    private static Digest? DigestOf(string name)
    {
        var parts = name.Split('/');
        if (parts.Length != 3 || !Digest.TryParse($"{parts[0]}:{parts[2]}", out var digest)) return null;
        return parts[1] == digest.Encoded[..2] ? digest : null;
    }

    public Task<bool> DeleteIfUnmodifiedSinceAsync(Digest digest, DateTimeOffset modifiedBefore, CancellationToken cancellationToken)
    {
        // A blob refreshed since the cutoff is kept without being moved, so a reader never finds it missing for that.
        var path = BlobPath(digest);
        if (File.GetLastWriteTimeUtc(path) >= modifiedBefore.UtcDateTime) return Task.FromResult(false);
        // Move the blob aside (atomic), then look at its time again: a commit that refreshed it after the look above shows
        // here and the blob goes back; a commit after the move finds nothing to refresh and stores the bytes again.
        var aside = $"{path}.gc-{Guid.NewGuid():N}";
        try
        {
            File.Move(path, aside);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult(false);
        }
        if (File.GetLastWriteTimeUtc(aside) >= modifiedBefore.UtcDateTime)
        {
            try
            {
                File.Move(aside, path);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(aside); // a commit stored the same bytes again meanwhile
            }
            return Task.FromResult(false);
        }
        File.Delete(aside);
        return Task.FromResult(true);
    }

    public async IAsyncEnumerable<StoredUploadInfo> ListUploadsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (var file in new DirectoryInfo(_uploadRoot).EnumerateFiles())
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Only server-made ids (32 lower-case hex digits); anything else in the folder is not ours to touch.
            if (file.Name.Length != 32 || !file.Name.All(char.IsAsciiHexDigitLower)) continue;
            if (SizeAndTime(file) is not { } stat) continue;
            yield return new StoredUploadInfo(file.Name, stat.Size, stat.Modified);
        }
    }

    public Task<string?> QuarantineAsync(string name, CancellationToken cancellationToken)
    {
        var source = Path.GetFullPath(Path.Combine(_blobRoot, name));
        if (!source.StartsWith(Path.GetFullPath(_blobRoot) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException("not a blob of this store", nameof(name));
        var target = Path.Combine(_quarantineRoot, $"{name.Replace('/', '_')}.{_time.GetUtcNow():yyyyMMddTHHmmssZ}");
        CreatePrivateDirectory(_quarantineRoot);
        try
        {
            File.Move(source, target);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<string?>(null);
        }
        return Task.FromResult<string?>(target);
    }

    /// <summary>
    /// Creates <paramref name="directory"/> and any missing parents as 0700; existing ones are left as they are.
    /// (<c>Directory.CreateDirectory(path, mode)</c> gives the mode to the last folder only.)
    /// </summary>
    private static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }
        if (Directory.Exists(directory)) return;
        if (Path.GetDirectoryName(directory) is { } parent) CreatePrivateDirectory(parent);
        Directory.CreateDirectory(directory, PrivateFiles.DirectoryMode);
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
