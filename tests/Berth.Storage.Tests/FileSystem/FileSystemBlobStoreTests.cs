using System.Buffers;
using System.Security.Cryptography;
using Berth.Core.Storage;
using Berth.Oci;
using Berth.Storage.FileSystem;

namespace Berth.Storage.Tests.FileSystem;

public sealed class FileSystemBlobStoreTests(FileSystemStoreFixture fixture) : BlobStoreContractTests<FileSystemStoreFixture>(fixture)
{
    [Fact]
    public async Task DownloadRedirect_IsNeverOffered()
    {
        var store = Fixture.CreateStore();
        var digest = await StoreAsync(store, RandomBytes(10));
        Assert.Null(await store.GetDownloadRedirectOrNullAsync(digest, Ct));
    }

    [Fact]
    public async Task WholeAlignedBlocks_AreWrittenDirect_AndEverythingElseBuffered()
    {
        var store = Fixture.CreateStore();
        var id = NewUploadId();
        await store.CreateUploadAsync(id, Ct);
        var directSupported = new DriveInfo(Path.GetTempPath()).DriveFormat is not ("tmpfs" or "ramfs");
        using var block = new AlignedBuffer(65536);
        RandomNumberGenerator.Fill(block.Memory.Span);
        var unaligned = RandomBytes(65536);
        await using (var append = await store.OpenUploadForAppendOrNullAsync(id, Ct) ?? throw new InvalidOperationException("upload missing"))
        {
            await append.WriteAsync(block.Memory, Ct);
            Assert.Equal(directSupported, UploadIsOpenDirect(id));
            await append.WriteAsync(block.Memory[..100], Ct);
            Assert.False(UploadIsOpenDirect(id));
            await append.WriteAsync(block.Memory[..4096], Ct); // whole blocks, but at an unaligned offset
            Assert.False(UploadIsOpenDirect(id));
            await append.WriteAsync(unaligned.AsMemory(0, 4096 - 100), Ct);
            await append.WriteAsync(block.Memory, Ct);
            Assert.Equal(directSupported, UploadIsOpenDirect(id));
            await append.WriteAsync(unaligned, Ct); // a managed array: never direct
            Assert.False(UploadIsOpenDirect(id));
        }
        var expected = block.Memory.ToArray().Concat(block.Memory[..100].ToArray()).Concat(block.Memory[..4096].ToArray())
            .Concat(unaligned.AsSpan(0, 4096 - 100).ToArray()).Concat(block.Memory.ToArray()).Concat(unaligned).ToArray();
        await using var upload = await store.OpenUploadForReadOrNullAsync(id, Ct);
        Assert.Equal(expected, await ReadAllAsync(upload!));
    }

    /// <summary>Whether this process holds the upload file open with O_DIRECT, read from the kernel's fdinfo.</summary>
    private static bool UploadIsOpenDirect(string uploadId)
    {
        var direct = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture is System.Runtime.InteropServices.Architecture.X64 ? 0x4000 : 0x10000;
        foreach (var fd in new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos())
        {
            if (fd.LinkTarget is not { } target || !target.EndsWith("/uploads/" + uploadId, StringComparison.Ordinal)) continue;
            var flags = File.ReadLines($"/proc/self/fdinfo/{fd.Name}").Single(line => line.StartsWith("flags:", StringComparison.Ordinal));
            return (Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & direct) != 0;
        }
        throw new InvalidOperationException($"upload {uploadId} is not open");
    }

    [Fact]
    public async Task BlobsUploadsAndTheirFolders_ArePrivateToTheServersUser()
    {
        var root = Path.Combine(Path.GetTempPath(), "berth-store-modes-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var store = new Berth.Storage.FileSystem.FileSystemBlobStore(Path.Combine(root, "storage"));
            await StoreAsync(store, RandomBytes(10));
            await store.CreateUploadAsync(NewUploadId(), Ct);

            var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).ToList();
            Assert.Equal(2, files.Count);
            foreach (var file in files)
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            foreach (var folder in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories))
                Assert.True(File.GetUnixFileMode(folder) == (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute), $"{folder}: {File.GetUnixFileMode(folder)}");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

public sealed class FileSystemStoreFixture : IBlobStoreFixture
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "berth-store-" + Guid.NewGuid().ToString("N")[..12]);

    public IBlobStore CreateStore() => new FileSystemBlobStore(Path.Combine(_root, "storage"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}
