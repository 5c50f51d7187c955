namespace Berth.Server.Hosting;

/// <summary>
/// The Azure SDKs percent-encode the slash inside repository names (<c>/acr/v1/library%2Fhello/_tags</c>,
/// <c>/v2/library%2Fhello/manifests/v1</c>; reference acr-protocol §9), which ACR accepts, and Kestrel leaves
/// <c>%2F</c> encoded in the path. Before routing runs (a startup filter wraps the whole pipeline), this decodes
/// <c>%2F</c> in ACR API paths (<c>/acr/v1/</c>, spoken only by Azure tooling) and, on <c>/v2/</c>, only for requests
/// from an Azure SDK (<c>User-Agent</c> containing <c>azsdk-</c>, which every Azure SDK sends): for every other
/// client an encoded slash in a <c>/v2</c> name stays what the distribution spec makes it, an invalid name.
/// Decoded names are validated like any other.
/// </summary>
internal sealed class EncodedSlashPaths : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            var path = context.Request.Path.Value;
            if (path is not null && path.Contains("%2F", StringComparison.OrdinalIgnoreCase)
                && (path.StartsWith("/acr/v1/", StringComparison.Ordinal)
                    || (path.StartsWith("/v2/", StringComparison.Ordinal) && context.Request.Headers.UserAgent.ToString().Contains("azsdk-", StringComparison.OrdinalIgnoreCase))))
            {
                context.Request.Path = new PathString(path.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase));
            }
            return nextMiddleware(context);
        });
        next(app);
    };
}
