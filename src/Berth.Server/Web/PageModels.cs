namespace Berth.Server.Web;

/// <summary>What every page's frame needs: the visitor (null on a page that answers before one is known, such as the 429) and the title.</summary>
public interface IPageModel
{
    WebVisitor? Visitor { get; }

    string Title { get; }
}

public sealed record MessageModel(WebVisitor? Visitor, string Title, string Message) : IPageModel;

public sealed record RegistryPageModel(WebVisitor Visitor, string Query, int Page, bool HasNext, IReadOnlyList<RepositoryRow> Repositories) : IPageModel
{
    public string Title => Visitor.Registry.LoginServer;
}

public sealed record RepositoryPageModel(
    WebVisitor Visitor,
    string Repository,
    RepositoryDetails Details,
    IReadOnlyList<KeyValuePair<string, string>> Annotations,
    TagDetails? NewestTag,
    string Query,
    TagPage Tags) : IPageModel
{
    public const string TitleKey = "org.opencontainers.image.title";
    public const string DescriptionKey = "org.opencontainers.image.description";

    /// <summary>The OCI keys shown first, in this order, with a person's label; other annotations follow under their own keys.</summary>
    public static IReadOnlyList<(string Key, string Label)> KnownKeys { get; } =
    [
        ("org.opencontainers.image.version", "Version"),
        ("org.opencontainers.image.revision", "Revision"),
        ("org.opencontainers.image.licenses", "Licenses"),
        ("org.opencontainers.image.source", "Source"),
        ("org.opencontainers.image.url", "URL"),
        ("org.opencontainers.image.documentation", "Documentation"),
        ("org.opencontainers.image.vendor", "Vendor"),
        ("org.opencontainers.image.authors", "Authors"),
        ("org.opencontainers.image.created", "Created"),
    ];

    public string? Annotation(string key) => Annotations.FirstOrDefault(a => a.Key == key).Value;

    public string Title => Annotation(TitleKey) is { Length: > 0 } title ? title : Repository;

    /// <summary>The reference pull commands name: the newest tag.</summary>
    public string? PullReference => NewestTag is { } tag ? $"{Visitor.Registry.LoginServer}/{Repository}:{tag.Name}" : null;
}

public sealed record ManifestPageModel(
    WebVisitor Visitor,
    string Repository,
    StoredManifest Manifest,
    ParsedManifest Parsed,
    ImageConfigSummary? Config,
    long Size,
    IReadOnlyList<PlatformRow> Platforms,
    IReadOnlyList<ReferrerGroup> Referrers,
    IReadOnlyList<string> Tags) : IPageModel
{
    public string Title => $"{Repository}@{Manifest.Digest}";

    public string PullReference => $"{Visitor.Registry.LoginServer}/{Repository}@{Manifest.Digest}";

    /// <summary>The manifest's bytes as text: exactly what <c>GET /v2/.../manifests/&lt;digest&gt;</c> returns.</summary>
    public string RawJson => System.Text.Encoding.UTF8.GetString(Manifest.Content);
}

public sealed record SignInModel(WebVisitor Visitor, string ReturnUrl, string Username, string? Error, bool Expired) : IPageModel
{
    public string Title => "Sign in";
}
