using static Berth.Cli.Commands.CommandBuilder;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth config set|get|unset</c>, az's <c>az config</c> for berth's own settings (<see cref="UserConfig"/>): so far
/// the default resource group, <c>defaults.group</c>, which <c>berth acr create</c> uses when <c>-g</c> is not given.
/// </summary>
public static class ConfigCommands
{
    public static Command Build(CommandBuilder builder) =>
        builder.Group("config", "Manage berth's settings (az config): defaults.group is the resource group used when -g is not given.", Set(builder), Get(builder), Unset(builder));

    private static Command Set(CommandBuilder builder)
    {
        var pairs = new Argument<string[]>("key=value") { Description = "Settings to store, e.g. defaults.group=team.", Arity = ArgumentArity.OneOrMore };
        var command = builder.Leaf("set", "Set berth settings.", [], context =>
        {
            foreach (var pair in context.ParseResult.GetValue(pairs)!)
            {
                var equals = pair.IndexOf('=');
                if (equals <= 0) throw CliException.Usage($"usage error: '{pair}' is not key=value (for example defaults.group=team).");
                UserConfig.Set(context.Environment, pair[..equals], pair[(equals + 1)..] is { Length: > 0 } value ? value : null);
            }
            return Task.CompletedTask;
        });
        command.Arguments.Add(pairs);
        return command;
    }

    private static Command Get(CommandBuilder builder)
    {
        var key = new Argument<string?>("key") { Description = "One setting, e.g. defaults.group (default: all).", Arity = ArgumentArity.ZeroOrOne };
        var command = builder.Leaf("get", "Show berth settings.", [.. builder.Globals.All], context =>
        {
            var settings = UserConfig.Read(context.Environment);
            var name = context.ParseResult.GetValue(key);
            if (name is null)
            {
                context.Emit(settings);
                return Task.CompletedTask;
            }
            if (!UserConfig.Keys.ContainsKey(name))
                throw CliException.Usage($"'{name}' is not a berth setting; known: {string.Join(", ", UserConfig.Keys.Keys)}.");
            context.Emit(new JsonObject { ["name"] = name, ["value"] = settings[name]?.DeepClone() });
            return Task.CompletedTask;
        });
        command.Arguments.Add(key);
        return command;
    }

    private static Command Unset(CommandBuilder builder)
    {
        var keys = new Argument<string[]>("key") { Description = "Settings to remove, e.g. defaults.group.", Arity = ArgumentArity.OneOrMore };
        var command = builder.Leaf("unset", "Remove berth settings.", [], context =>
        {
            foreach (var name in context.ParseResult.GetValue(keys)!) UserConfig.Set(context.Environment, name, null);
            return Task.CompletedTask;
        });
        command.Arguments.Add(keys);
        return command;
    }
}
