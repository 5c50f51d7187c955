using Berth.Core.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Storage.FileSystem;

public static class FileSystemStorageExtensions
{
    /// <summary>Stores blobs under <paramref name="root"/> on the local file system.</summary>
    public static IServiceCollection AddFileSystemBlobStore(this IServiceCollection services, string root) =>
        services.AddSingleton<IBlobStore>(new FileSystemBlobStore(root));
}
