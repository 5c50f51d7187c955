using System.Text.RegularExpressions;

namespace Berth.Oci;

/// <summary>Repository names and tags, checked against the distribution spec's grammar.</summary>
public static partial class Names
{
    /// <summary>Distribution limits the whole reference (host included) to 255 characters; the name alone gets that budget here.</summary>
    public const int MaxRepositoryNameLength = 255;

    [GeneratedRegex(@"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex(@"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    public static bool IsValidRepository(string name) =>
        name.Length is > 0 and <= MaxRepositoryNameLength && RepositoryPattern().IsMatch(name);

    public static bool IsValidTag(string tag) => TagPattern().IsMatch(tag);

    public static void EnsureRepository(string name)
    {
        if (!IsValidRepository(name))
            throw new OciException(OciErrorCode.NameInvalid, $"invalid repository name \"{Truncate(name)}\"");
    }

    public static void EnsureTag(string tag)
    {
        if (!IsValidTag(tag))
            throw new OciException(OciErrorCode.TagInvalid, $"invalid tag \"{Truncate(tag)}\"");
    }

    private static string Truncate(string s) => s.Length <= 300 ? s : s[..300] + "...";
}

/// <summary>A manifest reference: a tag or a digest.</summary>
public readonly record struct Reference(string? Tag, Digest? Digest)
{
    public bool IsDigest => Digest is not null;

    public static Reference Parse(string value)
    {
        if (value.Contains(':'))
            return new Reference(null, Oci.Digest.Parse(value));
        Names.EnsureTag(value);
        return new Reference(value, null);
    }

    public override string ToString() => Tag ?? Digest!.Value.ToString();
}
