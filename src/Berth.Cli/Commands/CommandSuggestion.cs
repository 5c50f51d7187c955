using System.CommandLine.Parsing;

namespace Berth.Cli.Commands;

/// <summary>
/// az's answer to a mistyped command: "'updte' is misspelled or not recognized by the system." and the closest
/// sibling command. System.CommandLine reports only "Required command was not provided" for a group.
/// </summary>
internal static class CommandSuggestion
{
    /// <summary>
    /// The one-line error for an unknown subcommand and the path of the group it belongs to (for "Run '... --help'"),
    /// or null when the parse failed for another reason.
    /// </summary>
    public static (string Line, string GroupPath)? ErrorFor(ParseResult parseResult)
    {
        if (parseResult.UnmatchedTokens.Count == 0 || parseResult.UnmatchedTokens[0].StartsWith('-'))
        {
            return null;
        }
        var unknown = parseResult.UnmatchedTokens[0];
        if (GroupBefore(parseResult, unknown) is not { } path || path[^1] is not { Subcommands.Count: > 0 } group)
        {
            return null;
        }
        var groupPath = string.Join(' ', path.Select(c => c is RootCommand ? "berth" : c.Name));
        var line = $"'{unknown}' is misspelled or not recognized by the system.";
        var names = group.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name));
        return (Closest(unknown, names) is { } match ? $"{line} Did you mean '{match}'?" : line, groupPath);
    }

    /// <summary>
    /// The command whose child the unknown token stands in for (the last one matched before it), with the commands above
    /// it. That is not always the parsed command: in <c>acr tokn list</c> the parser matches <c>acr list</c>, but the
    /// suggestion is among acr's.
    /// </summary>
    private static List<Command>? GroupBefore(ParseResult parseResult, string unknown)
    {
        var chain = new List<Command>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as CommandResult)
        {
            chain.Insert(0, result.Command);
        }
        var commandsBefore = 0;
        foreach (var token in parseResult.Tokens)
        {
            if (token.Type == TokenType.Argument && token.Value == unknown)
            {
                return commandsBefore < chain.Count ? chain[..(commandsBefore + 1)] : null;
            }
            if (token.Type == TokenType.Command)
            {
                commandsBefore++;
            }
        }
        return null;
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
