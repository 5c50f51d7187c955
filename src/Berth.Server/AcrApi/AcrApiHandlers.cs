using Berth.Server.DataPlane;
using Berth.Server.Requests;

namespace Berth.Server.AcrApi;

/// <summary>
/// ACR's repository API under <c>/acr/v1</c> (reference §5): repository, tag and manifest details with their changeable
/// attributes, attribute PATCH and deletion. The catalog is the data plane's. Routing, access and throttling are the
/// table's (<c>Endpoints/RegistryOperations.cs</c>), as for <c>/v2</c>.
/// </summary>
internal static class AcrApiHandlers
{
    public static async Task GetRepositoryAsync(HttpContext context, RegistryRequest request) =>
        await WriteAsync(context, View(request).Repository(await Service(context).GetRepositoryAsync(request.Repository, context.RequestAborted)));

    public static async Task ListTagsAsync(HttpContext context, RegistryRequest request)
    {
        var (limit, last) = Pagination.Read(context.Request);
        var tags = await Service(context).ListTagsAsync(request.Repository, limit + 1, last, ReadOrder(context.Request), context.RequestAborted);
        var page = Pagination.Page(context, tags, limit, $"/acr/v1/{request.Repository.Name}/_tags", t => t.Name, OrderQuery(context.Request));
        await WriteAsync(context, View(request).Tags(page));
    }

    public static async Task GetTagAsync(HttpContext context, RegistryRequest request) =>
        await WriteAsync(context, View(request).Tag(await Service(context).GetTagAsync(request.Repository, request.Argument, context.RequestAborted)));

    public static async Task ListManifestsAsync(HttpContext context, RegistryRequest request)
    {
        var (limit, last) = Pagination.Read(context.Request);
        var manifests = await Service(context).ListManifestsAsync(request.Repository, limit + 1, last, ReadOrder(context.Request), context.RequestAborted);
        var page = Pagination.Page(context, manifests, limit, $"/acr/v1/{request.Repository.Name}/_manifests", m => m.Digest.ToString(), OrderQuery(context.Request));
        await WriteAsync(context, View(request).Manifests(page));
    }

    public static async Task GetManifestAsync(HttpContext context, RegistryRequest request)
    {
        var (details, parsed) = await Service(context).GetManifestAsync(request.Repository, Digest.Parse(request.Argument), context.RequestAborted);
        await WriteAsync(context, View(request).Manifest(details, parsed));
    }

    /// <summary>PATCH of a repository's, tag's or manifest's changeable attributes.</summary>
    public static async Task UpdateAttributesAsync(HttpContext context, RegistryRequest request)
    {
        var (target, key) = request.Route.Resource switch
        {
            RegistryResource.AcrTag => (AttributeTarget.Tag, request.Argument),
            RegistryResource.AcrManifest => (AttributeTarget.Manifest, Digest.Parse(request.Argument).ToString()),
            _ => (AttributeTarget.Repository, ""),
        };
        var patch = await ReadPatchAsync(context.Request);
        var updated = await Service(context).UpdateAttributesAsync(request.Repository, target, key, patch, context.RequestAborted);
        // A tag or manifest answers as its GET does (az reads the "tag" or "manifest" object of the answer).
        switch (target)
        {
            case AttributeTarget.Tag:
                await GetTagAsync(context, request);
                break;
            case AttributeTarget.Manifest:
                await GetManifestAsync(context, request);
                break;
            default:
                await WriteAsync(context, AcrViews.Attributes(updated));
                break;
        }
    }

    public static async Task DeleteRepositoryAsync(HttpContext context, RegistryRequest request)
    {
        var (manifests, tags) = await Service(context).DeleteRepositoryAsync(request.Registry, request.Repository, RegistryRequests.ForEvents(context), context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        await WriteAsync(context, new { manifestsDeleted = manifests, tagsDeleted = tags });
    }

    public static async Task DeleteManifestAsync(HttpContext context, RegistryRequest request)
    {
        await Service(context).DeleteManifestAsync(request.Registry, request.Repository, Digest.Parse(request.Argument), RegistryRequests.ForEvents(context), context.RequestAborted);
        Accepted(context.Response);
    }

    public static async Task DeleteTagAsync(HttpContext context, RegistryRequest request)
    {
        await Service(context).DeleteTagAsync(request.Registry, request.Repository, request.Argument, RegistryRequests.ForEvents(context), context.RequestAborted);
        Accepted(context.Response);
    }

    private static void Accepted(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status202Accepted;
        response.ContentLength = 0;
    }

    private static RepositoryDetailsService Service(HttpContext context) => context.RequestServices.GetRequiredService<RepositoryDetailsService>();

    private static AcrViews View(RegistryRequest request) => new(request.Registry.LoginServer, request.Repository.Name);

    private static ListOrder ReadOrder(HttpRequest request) => request.Query["orderby"].ToString() switch
    {
        "timedesc" => ListOrder.TimeDescending,
        "timeasc" => ListOrder.TimeAscending,
        "" => ListOrder.Name,
        var other => throw new OciException(OciErrorCode.Unsupported, $"orderby \"{other}\" is not supported; use timedesc or timeasc", status: 400),
    };

    private static string OrderQuery(HttpRequest request) =>
        request.Query.TryGetValue("orderby", out var order) ? "&orderby=" + Uri.EscapeDataString(order.ToString()) : "";

    private const int MaxBodyBytes = 64 * 1024;

    /// <summary>ACR takes the attributes flat (<c>{"writeEnabled":false}</c>); az sends them that way.</summary>
    private static async Task<AttributesPatch> ReadPatchAsync(HttpRequest request)
    {
        var root = await ReadJsonObjectAsync(request);
        if (root.TryGetProperty("changeableAttributes", out var nested)) root = nested;
        return new AttributesPatch(Flag(root, "deleteEnabled"), Flag(root, "writeEnabled"), Flag(root, "readEnabled"), Flag(root, "listEnabled"));
    }

    /// <summary>A small JSON object body (an empty body is an empty object); anything else is a 400 with the registry's error JSON.</summary>
    public static async Task<JsonElement> ReadJsonObjectAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
                throw new OciException(OciErrorCode.SizeInvalid, $"the body is larger than {MaxBodyBytes} bytes", status: 413);
            buffer.Write(chunk, 0, read);
        }
        try
        {
            var body = buffer.Length == 0 ? "{}"u8.ToArray() : buffer.ToArray();
            JsonText.EnsureValidStrings(body);
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw InvalidPatch("the body must be a JSON object");
            return root.Clone();
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

    public static OciException InvalidPatch(string message) => new(OciErrorCode.Unsupported, message, status: 400);

    public static Task WriteAsync<T>(HttpContext context, T body) => DataPlaneResults.WriteJsonAsync(context, body);
}
