namespace Berth.Server.Web;

/// <summary>
/// The page URLs, built in one place (docs/web.md lists them). Repository names keep their slashes; <c>/-/</c> can never
/// be part of a repository name (a path component must start with a letter or digit), so it separates what follows.
/// </summary>
public static class WebPaths
{
    public const string RepositoryPrefix = "/r";
    public const string SignInPath = "/-/sign-in";
    public const string SignOutPath = "/-/sign-out";
    public const string AssetsPrefix = "/-/assets";
    public const string ManifestSeparator = "/-/manifests/";

    public static string Registry(string query = "", int page = 1) =>
        "/" + Query(query, page > 1 ? ["page=" + page.ToString(System.Globalization.CultureInfo.InvariantCulture)] : []);

    public static string Repository(string repository, string query = "", TagCursor? cursor = null) =>
        $"{RepositoryPrefix}/{repository}{Query(query, cursor is null ? [] : [cursor.Parameter + "=" + cursor.Value])}";

    public static string Manifest(string repository, Digest digest) => $"{RepositoryPrefix}/{repository}{ManifestSeparator}{digest}";

    public static string SignIn(string returnUrl, bool expired = false) =>
        SignInPath + "?returnUrl=" + Uri.EscapeDataString(returnUrl) + (expired ? "&expired=1" : "");

    /// <summary>
    /// Where sign-in may send the browser back to: a path of this site only, never another origin (<c>//host</c>,
    /// <c>/\host</c>), and never the sign-in form itself.
    /// </summary>
    public static string LocalOrHome(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url[0] == '/' && (url.Length == 1 || url[1] is not ('/' or '\\')) && !url.Any(char.IsControl)
            && !url.StartsWith(SignInPath, StringComparison.Ordinal) ? url : "/";

    /// <summary>The search (when any) and the paging parameters, which need no escaping.</summary>
    private static string Query(string query, IEnumerable<string> paging)
    {
        var parts = (query.Length > 0 ? ["q=" + Uri.EscapeDataString(query)] : Array.Empty<string>()).Concat(paging).ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }
}
