namespace Berth.Core.Identity;

/// <summary>
/// One parsed scope-map action, <c>repositories/&lt;repo|prefix/*|*&gt;/content/read|write|delete</c> or
/// <c>.../metadata/read|write</c> (reference §3.2), and the token-service actions it grants.
/// </summary>
public sealed record ScopeMapAction(RepositoryPattern Repository, string Permission, RepositoryActions Grants)
{
    public const string RepositoriesPrefix = "repositories/";

    private static readonly string ValidForms =
        "expected \"repositories/<repository>/content/read|write|delete\" or \"repositories/<repository>/metadata/read|write\"";

    /// <summary>The canonical string, as stored and shown (<c>repositories/foo/content/read</c>).</summary>
    public override string ToString() => $"{RepositoriesPrefix}{Repository.Value}/{Permission}";

    /// <summary>
    /// The mapping is the reference's §3.2 table. content/write grants push only: ACR documents that pushing
    /// needs content/read as well, so write does not imply pull.
    /// </summary>
    public static RepositoryActions MapPermission(string permission) => permission switch
    {
        "content/read" => RepositoryActions.Pull,
        "content/write" => RepositoryActions.Push,
        "content/delete" => RepositoryActions.Delete,
        "metadata/read" => RepositoryActions.MetadataRead,
        "metadata/write" => RepositoryActions.MetadataWrite,
        _ => RepositoryActions.None,
    };

    /// <summary>
    /// Parses an action. As the az CLI does before sending, the string is lower-cased, so
    /// <c>repositories/Foo/Content/Read</c> is accepted as <c>repositories/foo/content/read</c>.
    /// </summary>
    public static bool TryParse(string? value, out ScopeMapAction action, out string error)
    {
        action = null!;
        error = "";
        if (string.IsNullOrWhiteSpace(value))
        {
            error = $"invalid scope map action \"\": {ValidForms}";
            return false;
        }
        var text = value.Trim().ToLowerInvariant();
        if (text.StartsWith("gateway/", StringComparison.Ordinal))
        {
            error = $"invalid scope map action \"{value}\": gateway actions need a connected registry, which Berth does not support";
            return false;
        }
        if (!text.StartsWith(RepositoriesPrefix, StringComparison.Ordinal))
        {
            error = $"invalid scope map action \"{value}\": {ValidForms}";
            return false;
        }
        // The repository may contain slashes, so the permission is the last two segments.
        var lastSlash = text.LastIndexOf('/');
        var secondLast = lastSlash > 0 ? text.LastIndexOf('/', lastSlash - 1) : -1;
        if (secondLast < RepositoriesPrefix.Length)
        {
            error = $"invalid scope map action \"{value}\": {ValidForms}";
            return false;
        }
        var permission = text[(secondLast + 1)..];
        var grants = MapPermission(permission);
        if (grants == RepositoryActions.None)
        {
            error = $"invalid scope map action \"{value}\": unknown permission \"{permission}\"; {ValidForms}";
            return false;
        }
        var repository = text[RepositoriesPrefix.Length..secondLast];
        if (!RepositoryPattern.TryParse(repository, out var pattern, out var repositoryError))
        {
            error = $"invalid scope map action \"{value}\": {repositoryError}";
            return false;
        }
        action = new ScopeMapAction(pattern, permission, grants);
        return true;
    }

    public static ScopeMapAction Parse(string value) =>
        TryParse(value, out var action, out var error) ? action : throw new IdentityException(IdentityErrorCode.InvalidAction, error);
}
