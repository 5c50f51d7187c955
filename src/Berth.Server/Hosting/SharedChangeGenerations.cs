using Berth.Core.Caching;

namespace Berth.Server.Hosting;

public static class SharedChangeGenerations
{
    /// <summary>
    /// With generations shared between nodes (Redis), marks where each request starts: within it, a registry's
    /// generations are read from the shared store once, on first use, and trusted for the rest of the request. One
    /// node adds no middleware at all.
    /// </summary>
    public static IApplicationBuilder UseSharedChangeGenerations(this IApplicationBuilder app)
    {
        var generations = app.ApplicationServices.GetRequiredService<ChangeGenerations>();
        if (!generations.IsShared) return app;
        return app.Use((context, next) =>
        {
            generations.BeginRequest();
            return next(context);
        });
    }
}
