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
