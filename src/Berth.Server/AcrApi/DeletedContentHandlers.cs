using System.Globalization;
using Berth.Server.DataPlane;
using Berth.Server.Requests;

namespace Berth.Server.AcrApi;

/// <summary>
/// ACR's soft-deleted content under <c>/acr/v1/_deleted</c>, in the shapes az 2.45 reads (<c>acr repository list-deleted</c>,
/// <c>acr manifest list-deleted</c>, <c>list-deleted-tags</c>, <c>restore</c>). Listings come in deletion order and page
/// with <c>n</c> and an opaque <c>last</c> through <c>Link</c>, as az follows it.
/// </summary>
internal static class DeletedContentHandlers
{
    public static async Task ListRepositoriesAsync(HttpContext context, RegistryRequest request)
    {
        var (limit, last) = Pagination.Read(context.Request);
        var names = await Service(context).ListRepositoriesAsync(request.Registry.Name, limit + 1, last, context.RequestAborted);
        await AcrApiHandlers.WriteAsync(context, new { repositories = Pagination.Page(context, names, limit, "/acr/v1/_deleted/_catalog") });
    }

    public static async Task ListManifestsAsync(HttpContext context, RegistryRequest request)
    {
        var (limit, after) = ReadPage(context.Request);
        var manifests = await Service(context).ListManifestsAsync(request.Repository, limit + 1, after, context.RequestAborted);
        var page = Pagination.Page(context, manifests, limit, $"/acr/v1/_deleted/{request.Repository.Name}/_manifests", Cursor);
        await AcrApiHandlers.WriteAsync(context, new
        {
            registry = request.Registry.LoginServer,
            imageName = request.Repository.Name,
            manifests = page.Select(m => new
            {
                digest = m.Digest.ToString(),
                mediaType = m.MediaType,
                createdAt = AcrViews.Time(m.CreatedAt),
                deletedAt = AcrViews.Time(m.DeletedAt),
            }).ToList(),
        });
    }

    public static async Task ListTagsAsync(HttpContext context, RegistryRequest request)
    {
        var (limit, after) = ReadPage(context.Request);
        var tags = await Service(context).ListTagsAsync(request.Repository, limit + 1, after, context.RequestAborted);
        var page = Pagination.Page(context, tags, limit, $"/acr/v1/_deleted/{request.Repository.Name}/_tags", Cursor);
        await AcrApiHandlers.WriteAsync(context, new
        {
            registry = request.Registry.LoginServer,
            imageName = request.Repository.Name,
            tags = page.Select(t => new
            {
                tag = t.Tag,
                digest = t.Digest.ToString(),
                createdAt = AcrViews.Time(t.CreatedAt),
                deletedAt = AcrViews.Time(t.DeletedAt),
            }).ToList(),
        });
    }

    /// <summary>
    /// <c>POST …/_manifests/&lt;digest&gt;?force=True|False</c> with <c>{"tag":"t"}</c>: az sends Python's spelling of the
    /// flag, so it is read case-insensitively.
    /// </summary>
    public static async Task RestoreAsync(HttpContext context, RegistryRequest request)
    {
        var digest = Digest.Parse(request.Argument);
        var force = context.Request.Query["force"].ToString() switch
        {
            "" => false,
            var text when bool.TryParse(text, out var flag) => flag,
            var text => throw AcrApiHandlers.InvalidPatch($"force must be true or false, not \"{text}\""),
        };
        var body = await AcrApiHandlers.ReadJsonObjectAsync(context.Request);
        string? tag = null;
        if (body.TryGetProperty("tag", out var value) && value.ValueKind != JsonValueKind.Null)
            tag = value.ValueKind == JsonValueKind.String ? value.GetString() : throw AcrApiHandlers.InvalidPatch("\"tag\" must be a string");
        await Service(context).RestoreAsync(request.Repository, digest, tag, force, context.RequestAborted);
        await AcrApiHandlers.WriteAsync(context, new { digest = digest.ToString(), tag });
    }

    private static (int Limit, long After) ReadPage(HttpRequest request)
    {
        var (limit, last) = Pagination.Read(request);
        if (last is null) return (limit, 0);
        return long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var after)
            ? (limit, after)
            : throw new OciException(OciErrorCode.PaginationNumberInvalid, $"invalid last \"{last}\": use the Link the previous page gave");
    }

    private static string Cursor(DeletedManifest manifest) => manifest.Sequence.ToString(CultureInfo.InvariantCulture);

    private static string Cursor(DeletedTag tag) => tag.Sequence.ToString(CultureInfo.InvariantCulture);

    private static DeletedContentService Service(HttpContext context) => context.RequestServices.GetRequiredService<DeletedContentService>();
}
