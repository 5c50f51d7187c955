namespace Berth.Cli.Commands;

/// <summary>The <c>berth acr</c> command tree: az's commands, option names and short aliases (reference §5).</summary>
public static class BerthCli
{
    public static RootCommand BuildRoot(CliEnvironment environment, GlobalOptions globals)
    {
        var builder = new CommandBuilder(environment, globals);
        var acr = new Command("acr", "Manage private registries with Azure Container Registry commands, served by Berth.");
        foreach (var command in RegistryCommands.Build(builder))
        {
            acr.Subcommands.Add(command);
        }
        acr.Subcommands.Add(TokenCommands.Tokens(builder));
        acr.Subcommands.Add(TokenCommands.ScopeMaps(builder));
        acr.Subcommands.Add(WebhookCommands.Webhooks(builder));
        acr.Subcommands.Add(CacheCommands.CacheRules(builder));
        acr.Subcommands.Add(CacheCommands.CredentialSets(builder));
        acr.Subcommands.Add(RepositoryCommands.Build(builder));
        acr.Subcommands.Add(ImportCommands.Build(builder));
        acr.Subcommands.Add(ManifestCommands.Build(builder));
        acr.Subcommands.Add(PolicyCommands.Build(builder));
        foreach (var command in LoginCommands.Build(builder))
        {
            acr.Subcommands.Add(command);
        }

        var root = new RootCommand("berth: an OCI registry that behaves like Azure Container Registry.\n" +
            "  berth serve [--data <folder>] [--urls <urls>] [--<Section>:<Key>=<value> ...]   run the server\n" +
            "  berth acr ...                                                                    manage it as 'az acr' does");
        root.Subcommands.Add(acr);
        foreach (var command in MaintenanceCommands.Build(builder)) root.Subcommands.Add(command);
        root.Subcommands.Add(ConfigCommands.Build(builder));
        // Listed for help only: BerthCommand runs 'serve' before this parser sees it, so ASP.NET Core keys pass through untouched.
        root.Subcommands.Add(new Command("serve", "Run the Berth server (--data <folder>, --urls <urls>, any --Key=value for ASP.NET Core configuration)."));
        foreach (var option in globals.All)
        {
            acr.Options.Add(option);
        }
        CommandExamples.Apply(root);
        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        var globals = new GlobalOptions();
        var root = BuildRoot(environment, globals);
        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            // argparse style, as az: one line, exit code 2.
            var misspelled = CommandSuggestion.ErrorFor(parseResult);
            environment.Error.WriteLine($"ERROR: {misspelled?.Line ?? parseResult.Errors[0].Message}");
            var command = misspelled?.GroupPath ?? string.Join(' ', parseResult.CommandResult.Command.Name == root.Name ? "berth" : CommandPath(parseResult));
            environment.Error.WriteLine($"Run '{command} --help' for usage.");
            return CliException.UsageExitCode;
        }
        try
        {
            return await parseResult.InvokeAsync(new InvocationConfiguration { Output = environment.Out, Error = environment.Error }, cancellationToken);
        }
        catch (CliException error)
        {
            environment.Error.WriteLine(error.ErrorLine);
            return error.ExitCode;
        }
    }

    private static string CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command is RootCommand ? "berth" : result.Command.Name);
        }
        return string.Join(' ', names);
    }
}
