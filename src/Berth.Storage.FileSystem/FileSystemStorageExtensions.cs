using Berth.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Storage.FileSystem;

public static class FileSystemStorageExtensions
{
    /// <summary>
    /// Stores blobs under <paramref name="root"/> on the local file system; fsck moves corrupt blobs to
    /// <paramref name="quarantineRoot"/> (default: <c>quarantine</c> beside <paramref name="root"/>, i.e. <c>&lt;data&gt;/quarantine</c>).
    /// </summary>
    public static IServiceCollection AddFileSystemBlobStore(this IServiceCollection services, string root, string? quarantineRoot = null) =>
        services.AddSingleton<IBlobStore>(provider => new FileSystemBlobStore(root, quarantineRoot, provider.GetService<TimeProvider>()));
}
