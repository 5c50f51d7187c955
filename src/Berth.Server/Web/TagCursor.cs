using System.Globalization;

namespace Berth.Server.Web;

/// <summary>
/// Where a page of the repository page's tag table starts, carried in its URL: <c>?after=&lt;ms&gt;.&lt;tag&gt;</c> for the
/// tags after a position (the next link), <c>?before=&lt;ms&gt;.&lt;tag&gt;</c> for those before it (the previous link);
/// neither for the newest tags. The position is a push time in Unix milliseconds and a tag name, whose characters
/// (<c>[A-Za-z0-9_.-]</c>) need no escaping; the first dot ends the time. An empty name is a position just past every
/// tag of that millisecond, which the previous link of a page beyond the last uses.
/// </summary>
public sealed record TagCursor(TagPosition Position, bool IsBefore)
{
    public const string AfterParameter = "after";
    public const string BeforeParameter = "before";

    private const int MaxTagLength = 128;

    public static TagCursor After(TagPosition position) => new(position, false);

    public static TagCursor Before(TagPosition position) => new(position, true);

    public string Parameter => IsBefore ? BeforeParameter : AfterParameter;

    public string Value => Position.Pushed.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "." + Position.Tag;

    /// <summary>The cursor of a request: null for the first page; false when a cursor is malformed, or both are given.</summary>
    public static bool TryRead(IQueryCollection query, out TagCursor? cursor)
    {
        cursor = null;
        var after = query[AfterParameter];
        var before = query[BeforeParameter];
        if (after.Count + before.Count == 0) return true;
        if (after.Count + before.Count > 1) return false;
        var isBefore = before.Count == 1;
        if (Parse(isBefore ? before[0] : after[0]) is not { } position) return false;
        cursor = new TagCursor(position, isBefore);
        return true;
    }

    private static TagPosition? Parse(string? value)
    {
        var dot = value?.IndexOf('.') ?? -1;
        if (dot <= 0 || !long.TryParse(value.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
            || milliseconds > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
            return null;
        var tag = value![(dot + 1)..];
        if (tag.Length > MaxTagLength || !tag.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')) return null;
        return new TagPosition(DateTimeOffset.FromUnixTimeMilliseconds(milliseconds), tag);
    }
}
