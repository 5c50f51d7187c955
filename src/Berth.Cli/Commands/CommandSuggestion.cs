namespace Berth.Cli.Commands;

/// <summary>
/// az's answer to a mistyped command: "'updte' is misspelled or not recognized by the system." and the closest
/// sibling command. System.CommandLine reports only "Required command was not provided" for a group.
/// </summary>
internal static class CommandSuggestion
{
    /// <summary>The one-line error for an unknown subcommand, or null when the parse failed for another reason.</summary>
    public static string? ErrorFor(ParseResult parseResult)
    {
        var command = parseResult.CommandResult.Command;
        if (command.Subcommands.Count == 0 || parseResult.UnmatchedTokens.Count == 0)
        {
            return null;
        }
        var unknown = parseResult.UnmatchedTokens[0];
        if (unknown.StartsWith('-'))
        {
            return null;
        }
        var line = $"'{unknown}' is misspelled or not recognized by the system.";
        var names = command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name));
        return Closest(unknown, names) is { } match ? $"{line} Did you mean '{match}'?" : line;
    }

    /// <summary>The name nearest to <paramref name="typed"/>, if it is within a third of its length (at least one edit).</summary>
    internal static string? Closest(string typed, IEnumerable<string> names)
    {
        var limit = Math.Max(1, typed.Length / 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in names)
        {
            var distance = Distance(typed.ToLowerInvariant(), name.ToLowerInvariant());
            if (distance <= limit && distance < bestDistance)
            {
                best = name;
                bestDistance = distance;
            }
        }
        return best;
    }

    /// <summary>Edit distance counting an insertion, deletion, substitution or swap of neighbours as one edit.</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
