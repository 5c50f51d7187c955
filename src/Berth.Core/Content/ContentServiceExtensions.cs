using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Core.Content;

public static class ContentServiceExtensions
{
    public static IServiceCollection AddBerthContent(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ContentLocks>();
        services.TryAddSingleton<UploadService>();
        services.TryAddSingleton<BlobService>();
        services.TryAddSingleton<ManifestService>();
        services.TryAddSingleton<RepositoryDetailsService>();
        return services;
    }
}
