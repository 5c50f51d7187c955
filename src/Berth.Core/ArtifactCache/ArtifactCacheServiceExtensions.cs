using Berth.Core.Upstream;

namespace Berth.Core.ArtifactCache;

public static class ArtifactCacheServiceExtensions
{
    /// <summary>Cache rules, credential sets, the upstream registry client and pull through (options from <c>Berth:ArtifactCache</c>, bound by the host).</summary>
    public static IServiceCollection AddBerthArtifactCache(this IServiceCollection services) =>
        services.TryAddOptionsValidator<ArtifactCacheOptions, ArtifactCacheOptionsValidator>()
            .TryAddSingletonsAndClock(typeof(RegistryClient), typeof(ArtifactCacheService), typeof(PullThroughCache));
}
