using System.Globalization;

namespace Berth.Server.DataPlane;

/// <summary>The <c>n</c>/<c>last</c> pagination of the distribution spec, shared by every listing of /v2 and /acr/v1.</summary>
internal static class Pagination
{
    /// <summary>The largest page served; a client asking for more (or for everything) gets this many and a Link to the rest.</summary>
    public const int MaxPageSize = 10_000;

    public static (int Limit, string? Last) Read(HttpRequest request)
    {
        var limit = MaxPageSize;
        var n = request.Query["n"].ToString();
        if (!string.IsNullOrEmpty(n))
        {
            if (!int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out limit))
                throw new OciException(OciErrorCode.PaginationNumberInvalid, $"invalid number of results requested: \"{n}\"");
            limit = Math.Min(limit, MaxPageSize);
        }
        var last = request.Query["last"].ToString();
        return (limit, string.IsNullOrEmpty(last) ? null : last);
    }

    /// <summary>Trims the one-extra item fetched to detect a next page and, if there is one, sets the Link header to it.</summary>
    public static IReadOnlyList<T> Page<T>(HttpContext context, IReadOnlyList<T> items, int limit, string path, Func<T, string> key, string extraQuery = "")
    {
        if (items.Count <= limit) return items;
        var page = items.Take(limit).ToList();
        context.Response.Headers.Link = $"<{path}?n={limit}{extraQuery}&last={Uri.EscapeDataString(key(page[^1]))}>; rel=\"next\"";
        return page;
    }

    public static IReadOnlyList<string> Page(HttpContext context, IReadOnlyList<string> items, int limit, string path) =>
        Page(context, items, limit, path, item => item);
}
