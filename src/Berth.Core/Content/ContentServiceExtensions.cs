namespace Berth.Core.Content;

public static class ContentServiceExtensions
{
    public static IServiceCollection AddBerthContent(this IServiceCollection services) =>
        services.TryAddSingletonsAndClock(typeof(ContentLocks), typeof(UploadService), typeof(BlobService), typeof(ManifestService),
            typeof(RepositoryDetailsService), typeof(DeletedContentService));
}
