using System.Text.Json;
using System.Text.RegularExpressions;
using Berth.Core.Content;
using Berth.Core.Identity;
using Berth.Core.Registries;
using Berth.Core.Storage;
using Berth.Oci;
using Berth.Server.Access;
using Berth.Server.DataPlane;
using Berth.Server.Hosting;

namespace Berth.Server.AcrApi;

/// <summary>
/// ACR's repository API under <c>/acr/v1</c> (reference §5): the catalog, repository, tag and manifest details with
/// their changeable attributes, attribute PATCH and deletion. Same routing and access control as <c>/v2</c>.
/// </summary>
public static partial class AcrApiEndpoints
{
    [GeneratedRegex(@"^(?<name>.+?)(?:/(?<kind>_tags|_manifests)(?:/(?<key>[^/]+))?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex PathPattern();

    public static IEndpointRouteBuilder MapAcrApi(this IEndpointRouteBuilder app)
    {
        app.Map("/acr/v1/{**path}", HandleAsync);
        return app;
    }

    private static Task HandleAsync(HttpContext context) => DataPlaneResults.RunAsync(context, async () =>
    {
        var path = context.Request.Path.Value!.Length > "/acr/v1/".Length ? context.Request.Path.Value["/acr/v1/".Length..] : "";
        var registry = await context.RequestServices.GetRequiredService<RegistryResolver>().ResolveAsync(context);
        var method = context.Request.Method;

        if (path == "_catalog")
        {
            if (!HttpMethods.IsGet(method)) throw NotSupported(method);
            if (await AccessControl.AuthorizeAsync(context, registry, [AccessScope.Catalog]) is null) return;
            await DiscoveryHandlers.CatalogAsync(context, registry.Name);
            return;
        }

        var match = PathPattern().Match(path);
        if (!match.Success) throw new OciException(OciErrorCode.NameUnknown, "no such registry endpoint", status: 404);
        var name = match.Groups["name"].Value;
        Names.EnsureRepository(name);
        var repository = new RepositoryKey(registry.Name, name);
        var kind = match.Groups["kind"].Value;
        var key = match.Groups["key"].Success ? match.Groups["key"].Value : null;
        var target = kind switch { "_tags" => AttributeTarget.Tag, "_manifests" => AttributeTarget.Manifest, _ => AttributeTarget.Repository };

        // Reference §1.2: reads need metadata_read, attribute changes metadata_write, deletions delete.
        var action = method switch
        {
            _ when HttpMethods.IsGet(method) => ScopeNames.MetadataRead,
            _ when HttpMethods.IsPatch(method) && (target == AttributeTarget.Repository || key is not null) => ScopeNames.MetadataWrite,
            _ when HttpMethods.IsDelete(method) && (target == AttributeTarget.Repository || key is not null) => ScopeNames.Delete,
            _ => throw NotSupported(method),
        };
        if (await AccessControl.AuthorizeAsync(context, registry, [AccessScope.Repository(name, action)]) is null) return;

        var service = context.RequestServices.GetRequiredService<RepositoryDetailsService>();
        var cancellationToken = context.RequestAborted;
        var view = new AcrViews(registry.LoginServer, name);
        switch (action, target, key)
        {
            case (ScopeNames.MetadataRead, AttributeTarget.Repository, _):
                await WriteAsync(context, view.Repository(await service.GetRepositoryAsync(repository, cancellationToken)));
                break;
            case (ScopeNames.MetadataRead, AttributeTarget.Tag, null):
            {
                var (limit, last) = Pagination.Read(context.Request);
                var order = ReadOrder(context.Request);
                var tags = await service.ListTagsAsync(repository, limit + 1, last, order, cancellationToken);
                var page = Pagination.Page(context, tags, limit, $"/acr/v1/{name}/_tags", t => t.Name, OrderQuery(context.Request));
                await WriteAsync(context, view.Tags(page));
                break;
            }
            case (ScopeNames.MetadataRead, AttributeTarget.Tag, { } tag):
                await WriteAsync(context, view.Tag(await service.GetTagAsync(repository, tag, cancellationToken)));
                break;
            case (ScopeNames.MetadataRead, AttributeTarget.Manifest, null):
            {
                var (limit, last) = Pagination.Read(context.Request);
                var manifests = await service.ListManifestsAsync(repository, limit + 1, last, ReadOrder(context.Request), cancellationToken);
                var page = Pagination.Page(context, manifests, limit, $"/acr/v1/{name}/_manifests", m => m.Digest.ToString(), OrderQuery(context.Request));
                await WriteAsync(context, view.Manifests(page));
                break;
            }
            case (ScopeNames.MetadataRead, AttributeTarget.Manifest, { } digest):
            {
                var (details, parsed) = await service.GetManifestAsync(repository, Digest.Parse(digest), cancellationToken);
                await WriteAsync(context, view.Manifest(details, parsed));
                break;
            }
            case (ScopeNames.MetadataWrite, _, _):
            {
                var patch = await ReadPatchAsync(context.Request);
                var attributeKey = target == AttributeTarget.Manifest ? Digest.Parse(key!).ToString() : key ?? "";
                var updated = await service.UpdateAttributesAsync(repository, target, attributeKey, patch, cancellationToken);
                await WriteAsync(context, AcrViews.Attributes(updated));
                break;
            }
            case (ScopeNames.Delete, AttributeTarget.Repository, _):
            {
                var (manifests, tags) = await service.DeleteRepositoryAsync(repository, cancellationToken);
                context.Response.StatusCode = StatusCodes.Status202Accepted;
                await WriteAsync(context, new { manifestsDeleted = manifests, tagsDeleted = tags });
                break;
            }
            case (ScopeNames.Delete, AttributeTarget.Manifest, { } digest):
                await service.DeleteManifestAsync(repository, Digest.Parse(digest), cancellationToken);
                context.Response.StatusCode = StatusCodes.Status202Accepted;
                context.Response.ContentLength = 0;
                break;
            default:
                await service.DeleteTagAsync(repository, key!, cancellationToken);
                context.Response.StatusCode = StatusCodes.Status202Accepted;
                context.Response.ContentLength = 0;
                break;
        }
    });

    private static ListOrder ReadOrder(HttpRequest request) => request.Query["orderby"].ToString() switch
    {
        "timedesc" => ListOrder.TimeDescending,
        "timeasc" => ListOrder.TimeAscending,
        "" => ListOrder.Name,
        var other => throw new OciException(OciErrorCode.Unsupported, $"orderby \"{other}\" is not supported; use timedesc or timeasc", status: 400),
    };

    private static string OrderQuery(HttpRequest request) =>
        request.Query.TryGetValue("orderby", out var order) ? "&orderby=" + Uri.EscapeDataString(order.ToString()) : "";

    private const int MaxPatchBytes = 64 * 1024;

    /// <summary>ACR takes the attributes flat (<c>{"writeEnabled":false}</c>); az sends them that way.</summary>
    private static async Task<AttributesPatch> ReadPatchAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxPatchBytes)
                throw new OciException(OciErrorCode.SizeInvalid, $"the body is larger than {MaxPatchBytes} bytes", status: 413);
            buffer.Write(chunk, 0, read);
        }
        try
        {
            var body = buffer.ToArray();
            JsonText.EnsureValidStrings(body);
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw InvalidPatch("the body must be a JSON object");
            if (root.TryGetProperty("changeableAttributes", out var nested)) root = nested;
            return new AttributesPatch(Flag(root, "deleteEnabled"), Flag(root, "writeEnabled"), Flag(root, "readEnabled"), Flag(root, "listEnabled"));
        }
        catch (JsonException e)
        {
            throw InvalidPatch($"the body is not valid JSON: {e.Message}");
        }
    }

    private static bool? Flag(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean()
        : throw InvalidPatch($"\"{name}\" must be true or false");

    private static OciException InvalidPatch(string message) => new(OciErrorCode.Unsupported, message, status: 400);

    private static OciException NotSupported(string method) => new(OciErrorCode.Unsupported, $"{method} is not supported on this endpoint", status: 405);

    private static Task WriteAsync<T>(HttpContext context, T body) => DataPlaneResults.WriteJsonAsync(context, body);
}
