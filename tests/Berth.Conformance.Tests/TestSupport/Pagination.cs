using System.Text.RegularExpressions;

namespace Berth.Conformance.Tests.TestSupport;

/// <summary>The RFC 5988 <c>Link: &lt;url&gt;; rel="next"</c> header of paginated listings.</summary>
public static partial class Pagination
{
    [GeneratedRegex("^<([^>]+)>\\s*;\\s*rel=\"next\"$")]
    private static partial Regex NextLink();

    /// <summary>The next page's URL, or null when the response has no <c>Link</c> header; fails on a malformed one.</summary>
    public static string? Next(HttpResponseMessage response)
    {
        var link = response.Header("Link");
        if (link is null) return null;
        var match = NextLink().Match(link);
        Assert.True(match.Success, $"Link header is not <url>; rel=\"next\": {link}");
        return match.Groups[1].Value;
    }

    /// <summary>The query parameters of a URL (decoded).</summary>
    public static Dictionary<string, string> Query(string url)
    {
        var query = new Uri(new Uri("http://x"), url).Query.TrimStart('?');
        return query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "");
    }
}
