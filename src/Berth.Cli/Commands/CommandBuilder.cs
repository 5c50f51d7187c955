using System.CommandLine.Parsing;

namespace Berth.Cli.Commands;

/// <summary>The value of a three-state flag (<see cref="CommandBuilder.ThreeState"/>).</summary>
public readonly record struct Toggle(bool Value);

/// <summary>Builds az-style commands: each action runs inside one error boundary that prints az's one-line error.</summary>
public sealed class CommandBuilder
{
    private readonly CliEnvironment _environment;

    public CommandBuilder(CliEnvironment environment, GlobalOptions globals)
    {
        _environment = environment;
        Globals = globals;
    }

    public GlobalOptions Globals { get; }

    public Command Group(string name, string description, params Command[] children)
    {
        var group = new Command(name, description);
        foreach (var child in children)
        {
            group.Subcommands.Add(child);
        }
        return group;
    }

    public Command Leaf(string name, string description, Option[] options, Func<CommandContext, Task> action)
    {
        var command = new Command(name, description);
        foreach (var option in options)
        {
            command.Options.Add(option);
        }
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            using var context = new CommandContext(_environment, Globals, parseResult, cancellationToken);
            try
            {
                await action(context);
                return 0;
            }
            catch (CliException error)
            {
                _environment.Error.WriteLine(error.ErrorLine);
                return error.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _environment.Error.WriteLine("ERROR: Operation cancelled.");
                return 130;
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                _environment.Error.WriteLine($"ERROR: The command failed with an unexpected error: {error.GetType().Name}: {CliException.Causes(error)}");
                if (context.Debug)
                {
                    _environment.Error.WriteLine(error.ToString());
                }
                return CliException.GeneralExitCode;
            }
        });
        return command;
    }

    public static Option<string> Required(string name, string description, params string[] aliases) =>
        new(name, aliases) { Description = description, Required = true };

    public static Option<string?> Optional(string name, string description, params string[] aliases) =>
        new(name, aliases) { Description = description };

    /// <summary>
    /// az's three-state flag: a bare <c>--flag</c> means true, or it takes true/false, yes/no, on/off or 1/0.
    /// Its values are <see cref="Toggle"/>, not bool: System.CommandLine never lets a bool option take a word
    /// <c>bool.TryParse</c> refuses, so <c>--flag yes</c> would be an unrecognized argument.
    /// </summary>
    public static Option<Toggle?> ThreeState(string name, string description, params string[] aliases) =>
        new(name, aliases)
        {
            Description = description + " Allowed values: false, true.",
            Arity = ArgumentArity.ZeroOrOne,
            HelpName = "true|false",
            CustomParser = ParseThreeState,
        };

    public static Option<bool> Flag(string name, string description, params string[] aliases) =>
        new(name, aliases) { Description = description };

    /// <summary>An option restricted to az's choices, matched case-insensitively and returned in az's spelling.</summary>
    public static Option<string?> Choice(string name, string description, string[] choices, params string[] aliases)
    {
        var option = new Option<string?>(name, aliases)
        {
            Description = $"{description} Allowed values: {string.Join(", ", choices)}.",
            HelpName = string.Join('|', choices),
        };
        option.CustomParser = result =>
        {
            var value = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            var match = choices.FirstOrDefault(c => c.Equals(value, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                result.AddError($"argument {name}: invalid choice: '{value}' (choose from {string.Join(", ", choices.Select(c => $"'{c}'"))})");
            }
            return match;
        };
        return option;
    }

    /// <summary>An option that may repeat and takes several values each time (<c>--repository REPO ACTION...</c>).</summary>
    public static Option<string[]> Groups(string name, string description, string helpName) =>
        new(name)
        {
            Description = description,
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
            HelpName = helpName,
        };

    private static Toggle? ParseThreeState(ArgumentResult result)
    {
        if (result.Tokens.Count == 0)
        {
            return new Toggle(true);
        }
        var value = result.Tokens[0].Value;
        switch (value.ToLowerInvariant())
        {
            case "true" or "yes" or "on" or "1":
                return new Toggle(true);
            case "false" or "no" or "off" or "0":
                return new Toggle(false);
            default:
                var option = (result.Parent as OptionResult)?.Option.Name ?? "flag";
                result.AddError($"argument {option}: expected one of true, false, yes, no, on, off, 1, 0 (got '{value}')");
                return null;
        }
    }

    /// <summary>
    /// Splits a repeatable multi-value option back into its occurrences: System.CommandLine merges them, but
    /// <c>--repository a content/read --repository b content/write</c> means two groups.
    /// </summary>
    public static IReadOnlyList<string[]> OccurrencesOf(ParseResult parseResult, Option option)
    {
        var names = new HashSet<string>(option.Aliases.Append(option.Name), StringComparer.Ordinal);
        var groups = new List<string[]>();
        List<string>? current = null;
        foreach (var token in parseResult.Tokens)
        {
            if (token.Type == TokenType.Option)
            {
                if (current is not null)
                {
                    groups.Add(current.ToArray());
                }
                current = names.Contains(token.Value) ? [] : null;
            }
            else if (token.Type == TokenType.Argument && current is not null)
            {
                current.Add(token.Value);
            }
            else if (current is not null)
            {
                groups.Add(current.ToArray());
                current = null;
            }
        }
        if (current is not null)
        {
            groups.Add(current.ToArray());
        }
        return groups;
    }
}
