namespace Berth.Core.Webhooks;

public static class WebhookServiceExtensions
{
    /// <summary>
    /// Webhooks (options from <c>Berth:Webhooks</c>, validated at start). An <see cref="IWebhookStore"/> must be registered
    /// by the metadata provider; the host runs <see cref="WebhookDispatcher"/> on its schedule.
    /// </summary>
    public static IServiceCollection AddBerthWebhooks(this IServiceCollection services, Action<WebhookOptions>? configure = null) => services
        .AddOptionsValidatedOnStart(configure, options => options.Validate())
        .TryAddSingletonsAndClock(typeof(WebhookService), typeof(WebhookDispatcher));
}
