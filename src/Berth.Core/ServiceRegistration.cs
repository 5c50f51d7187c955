using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Berth.Core;

/// <summary>The registration steps that the feature extensions (<c>AddBerthContent</c>, <c>AddBerthIdentity</c>, ...) share.</summary>
internal static class ServiceRegistration
{
    /// <summary>
    /// Adds each type as a singleton of itself unless one is registered already (so a host or a test that registers
    /// its own first wins), and the system clock that Berth's services read through <see cref="TimeProvider"/>.
    /// </summary>
    public static IServiceCollection TryAddSingletonsAndClock(this IServiceCollection services, params Type[] types)
    {
        services.TryAddSingleton(TimeProvider.System);
        foreach (var type in types)
            services.TryAddSingleton(type);
        return services;
    }

    /// <summary>Options whose own check runs at start-up, so a bad setting stops the host with a clear message.</summary>
    public static IServiceCollection AddOptionsValidatedOnStart<TOptions>(this IServiceCollection services, Action<TOptions>? configure, Action<TOptions> validate)
        where TOptions : class
    {
        var builder = services.AddOptions<TOptions>();
        if (configure is not null)
            builder.Configure(configure);
        builder.Validate(options =>
        {
            validate(options);
            return true;
        }).ValidateOnStart();
        return services;
    }

    public static IServiceCollection TryAddOptionsValidator<TOptions, TValidator>(this IServiceCollection services)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        return services;
    }
}
