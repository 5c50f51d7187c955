namespace Berth.Core.Webhooks;

/// <summary>
/// ACR's webhook scope: <c>repository:tag</c>, where <c>foo:*</c> means every tag of <c>foo</c>, <c>foo</c> means
/// <c>foo:latest</c>, and an empty scope means every event. <c>*</c> matches any run of characters in either part
/// (<c>samples/*:v*</c>). An event without a tag (a manifest deleted by digest) matches when any tag the manifest
/// carried matches, or when the tag part is <c>*</c>.
/// </summary>
public static class WebhookScope
{
    public const int MaxLength = 512;

    public static bool IsValid(string scope)
    {
        if (scope.Length > MaxLength) return false;
        if (scope.Length == 0) return true;
        var (repository, tag) = Split(scope);
        return repository.Length > 0 && tag.Length > 0 && !tag.Contains(':') && !scope.Any(char.IsWhiteSpace);
    }

    public static bool Matches(string scope, ContentEvent change)
    {
        if (scope.Length == 0) return true;
        var (repository, tag) = Split(scope);
        if (!Glob(repository, change.Repository.Name)) return false;
        if (tag == "*") return true;
        var tags = change.Tag is { } eventTag ? [eventTag, .. change.ScopeTags] : change.ScopeTags;
        return tags.Any(t => Glob(tag, t));
    }

    private static (string Repository, string Tag) Split(string scope)
    {
        var colon = scope.IndexOf(':');
        return colon < 0 ? (scope, "latest") : (scope[..colon], scope[(colon + 1)..]);
    }

    /// <summary>Whole-string match where <c>*</c> stands for any run of characters (repository names compare ordinally, as they are lower-case).</summary>
    private static bool Glob(string pattern, string value)
    {
        var parts = pattern.Split('*');
        if (parts.Length == 1) return string.Equals(pattern, value, StringComparison.Ordinal);
        if (!value.StartsWith(parts[0], StringComparison.Ordinal)) return false;
        var at = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = value.IndexOf(parts[i], at, StringComparison.Ordinal);
            if (found < 0) return false;
            at = found + parts[i].Length;
        }
        var last = parts[^1];
        return value.Length - at >= last.Length && value.EndsWith(last, StringComparison.Ordinal);
    }
}
