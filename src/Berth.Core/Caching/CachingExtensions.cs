using Berth.Core.Content;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Core.Caching;

public static class CachingExtensions
{
    /// <summary>
    /// Puts the read caches in front of whichever metadata and identity providers are registered. Call after the
    /// providers; the providers themselves stay unaware of caching.
    /// </summary>
    public static IServiceCollection AddBerthCaching(this IServiceCollection services)
    {
        services.TryAddSingleton<ChangeGenerations>();
        Decorate<IMetadataStore>(services, (inner, sp) => new CachingMetadataStore(inner, sp.GetRequiredService<ChangeGenerations>()));
        Decorate<IRepositoryDetailsStore>(services, (inner, sp) => new CachingRepositoryDetailsStore(inner, sp.GetRequiredService<ChangeGenerations>()));
        Decorate<IDeletedContentStore>(services, (inner, sp) => new CachingDeletedContentStore(inner, sp.GetRequiredService<ChangeGenerations>()));
        Decorate<IIdentityStore>(services, (inner, sp) => new CachingIdentityStore(inner, sp.GetRequiredService<ChangeGenerations>()));
        return services;
    }

    /// <summary>Replaces the registration of <typeparamref name="TService"/> with a wrapper around what it registered.</summary>
    private static void Decorate<TService>(IServiceCollection services, Func<TService, IServiceProvider, TService> wrap) where TService : class
    {
        var descriptor = services.LastOrDefault(d => d.ServiceType == typeof(TService))
            ?? throw new InvalidOperationException($"{typeof(TService).Name} must be registered by a provider before caching is added");
        services.Remove(descriptor);
        services.AddSingleton(provider => wrap(Resolve<TService>(provider, descriptor), provider));
    }

    private static TService Resolve<TService>(IServiceProvider provider, ServiceDescriptor descriptor) where TService : class =>
        (TService)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(provider)
            ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType!));
}
