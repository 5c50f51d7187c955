namespace Berth.Core.Identity;

/// <summary>
/// The repository part of a scope-map rule: an exact name, <c>prefix/*</c> (every repository under the prefix,
/// at any depth) or <c>*</c> (every repository). Reference §3.2: the wildcard is one <c>*</c>, last, after a <c>/</c>.
/// </summary>
public readonly record struct RepositoryPattern
{
    private enum PatternKind { Exact, Prefix, Every }

    private readonly PatternKind _kind;

    private RepositoryPattern(string value, PatternKind kind)
    {
        Value = value;
        _kind = kind;
    }

    public string Value { get; }

    public bool IsEveryRepository => _kind == PatternKind.Every;

    public bool IsPrefix => _kind == PatternKind.Prefix;

    public static RepositoryPattern EveryRepository { get; } = new(ScopeNames.Wildcard, PatternKind.Every);

    /// <summary>
    /// Whether the pattern covers <paramref name="repository"/>. A literal <c>*</c> name (a client asking for
    /// <c>repository:*:pull</c>) is covered only by the <c>*</c> pattern, so a grant on it means "every repository".
    /// A prefix pattern matches whole path segments of a valid repository name: <c>team/*</c> covers <c>team/app</c>
    /// and <c>team/a/b</c>, never <c>teamx/app</c>, <c>team/../secret</c> or the pattern text <c>team/*</c> itself.
    /// </summary>
    public bool Matches(string repository)
    {
        if (IsEveryRepository)
            return true;
        if (IsPrefix)
        {
            var prefix = Value.AsSpan(0, Value.Length - 1); // "team/": the segments, and the separator after the last
            return repository.Length > prefix.Length && repository.AsSpan().StartsWith(prefix, StringComparison.Ordinal)
                && Oci.Names.IsValidRepository(repository);
        }
        return string.Equals(repository, Value, StringComparison.Ordinal);
    }

    public override string ToString() => Value;

    /// <summary>Parses and validates a pattern; <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string value, out RepositoryPattern pattern, out string? error)
    {
        pattern = default;
        error = null;
        if (value == ScopeNames.Wildcard)
        {
            pattern = EveryRepository;
            return true;
        }
        var name = value;
        var kind = PatternKind.Exact;
        if (value.EndsWith("/*", StringComparison.Ordinal))
        {
            name = value[..^2];
            kind = PatternKind.Prefix;
        }
        if (name.Contains('*'))
        {
            error = $"invalid repository \"{value}\": a wildcard may appear only once, as the last segment after a '/' (\"prefix/*\"), or alone (\"*\")";
            return false;
        }
        if (!Oci.Names.IsValidRepository(name))
        {
            error = $"invalid repository \"{value}\": repository names are lower-case alphanumerics separated by '/', '.', '_', '__' or '-'";
            return false;
        }
        pattern = new RepositoryPattern(value, kind);
        return true;
    }

    /// <summary>
    /// A pattern for a name taken literally from an issued token's access claim: <c>*</c> is every repository
    /// (it is granted only to callers holding the action everywhere), anything else matches only itself.
    /// </summary>
    public static RepositoryPattern Literal(string name) =>
        name == ScopeNames.Wildcard ? EveryRepository : new RepositoryPattern(name, PatternKind.Exact);
}
