namespace Berth.Server.Hosting;

/// <summary>
/// The Azure SDKs percent-encode the slash inside repository names (<c>/acr/v1/library%2Fhello/_tags</c>,
/// <c>/v2/library%2Fhello/manifests/v1</c>; reference acr-protocol §9), ACR accepts that, and Kestrel leaves
/// <c>%2F</c> encoded in the path. Before routing runs (a startup filter wraps the whole pipeline), this decodes
/// <c>%2F</c> in data-plane and ACR API paths, where a slash can only ever be part of a repository name. It is safe
/// for every client: Kestrel has already removed dot segments, and the decoded name is validated like any other, so
/// <c>x%2F..%2Fy</c> becomes the invalid name <c>x/../y</c>, never a path outside the repository.
/// </summary>
internal sealed class EncodedSlashPaths : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            var path = context.Request.Path.Value;
            if (path is not null && path.Contains("%2F", StringComparison.OrdinalIgnoreCase)
                && (path.StartsWith("/acr/v1/", StringComparison.Ordinal) || path.StartsWith("/v2/", StringComparison.Ordinal)))
            {
                context.Request.Path = new PathString(path.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase));
            }
            return nextMiddleware(context);
        });
        next(app);
    };
}
