using static Berth.Cli.Commands.CommandBuilder;
using Kind = Berth.Cli.Commands.TokenCommands.Kind;
using Named = Berth.Cli.Commands.TokenCommands.Named;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth acr cache ...</c> and <c>berth acr credential-set ...</c>: az 2.46's commands and flags (acr-lifecycle §1),
/// except that a credential set takes the upstream <c>--username</c> and <c>--password</c> themselves, which Berth keeps
/// encrypted, where az takes Key Vault secret identifiers (<c>--username-id</c>, <c>--password-id</c>).
/// </summary>
public static class CacheCommands
{
    private static readonly Kind Rule = new("cache rule", "cacheRules", ArmShapes.CacheRule, ArmShapes.CacheRuleTable, ManagementClient.CacheApiVersion);
    private static readonly Kind Set = new("credential set", "credentialSets", ArmShapes.CredentialSet, ArmShapes.CredentialSetTable, ManagementClient.CacheApiVersion);

    public static Command CacheRules(CommandBuilder builder) => builder.Group("cache", "Manage cache rules: repositories filled from an upstream registry on first pull.",
        CacheCreate(builder), CacheUpdate(builder), TokenCommands.Show(builder, Rule), TokenCommands.List(builder, Rule, "List the cache rules of a registry."),
        TokenCommands.Delete(builder, Rule, "stop filling its repository from upstream (what is cached stays)"));

    public static Command CredentialSets(CommandBuilder builder) => builder.Group("credential-set", "Manage credential sets: logins for upstream registries.",
        SetCreate(builder), SetUpdate(builder), TokenCommands.Show(builder, Set), TokenCommands.List(builder, Set, "List the credential sets of a registry."),
        TokenCommands.Delete(builder, Set, "remove the upstream login it holds"));

    private static Command CacheCreate(CommandBuilder builder)
    {
        var named = new Named(Rule);
        var source = Required("--source-repo", "The upstream repository to cache, e.g. docker.io/library/ubuntu, or docker.io/library/* for a wildcard rule.", "-s");
        var target = Required("--target-repo", "The repository of this registry to fill, e.g. ubuntu, or library/* for a wildcard rule.", "-t");
        var credentialSet = Optional("--cred-set", "The name of the credential set to log in upstream with.", "-c");
        return builder.Leaf("create", "Create a cache rule.", named.With(source, target, credentialSet), async context =>
        {
            var path = await named.RegistryPathAsync(context);
            var properties = new JsonObject
            {
                ["sourceRepository"] = context.Get(source),
                ["targetRepository"] = context.Get(target),
                // As az: an explicit null when no credential set is given.
                ["credentialSetResourceId"] = context.Get(credentialSet) is { } set ? $"/{path}/credentialSets/{set}" : null,
            };
            var created = await context.Management.SendAsync(HttpMethod.Put, await named.PathAsync(context), ManagementClient.CacheApiVersion,
                new JsonObject { ["properties"] = properties });
            context.Emit(ArmShapes.CacheRule(created), ArmShapes.CacheRuleTable);
        });
    }

    private static Command CacheUpdate(CommandBuilder builder)
    {
        var named = new Named(Rule);
        var credentialSet = Optional("--cred-set", "The name of the credential set to log in upstream with.", "-c");
        var remove = Flag("--remove-cred-set", "Remove the rule's credential set (pull upstream anonymously).");
        return builder.Leaf("update", "Change the credential set of a cache rule.", named.With(credentialSet, remove), async context =>
        {
            var set = context.Get(credentialSet);
            if ((set is null) == !context.Get(remove))
            {
                throw CliException.Usage("usage error: give either --cred-set or --remove-cred-set.");
            }
            var path = await named.RegistryPathAsync(context);
            var updated = await context.Management.SendAsync(HttpMethod.Patch, await named.PathAsync(context), ManagementClient.CacheApiVersion, new JsonObject
            {
                ["properties"] = new JsonObject { ["credentialSetResourceId"] = set is null ? null : $"/{path}/credentialSets/{set}" },
            });
            context.Emit(ArmShapes.CacheRule(updated), ArmShapes.CacheRuleTable);
        });
    }

    private static Command SetCreate(CommandBuilder builder)
    {
        var named = new Named(Set);
        var loginServer = Required("--login-server", "The upstream registry's login server, e.g. docker.io.", "-l");
        var username = Required("--username", "The upstream username (kept encrypted, never shown again).", "-u");
        var password = Required("--password", "The upstream password or access token (kept encrypted, never shown again).", "-p");
        return builder.Leaf("create", "Create a credential set.", named.With(loginServer, username, password), async context =>
        {
            var created = await context.Management.SendAsync(HttpMethod.Put, await named.PathAsync(context), ManagementClient.CacheApiVersion, new JsonObject
            {
                ["identity"] = new JsonObject { ["type"] = "SystemAssigned" },
                ["properties"] = new JsonObject
                {
                    ["loginServer"] = context.Get(loginServer),
                    ["authCredentials"] = Credentials(context.Get(username), context.Get(password)),
                },
            });
            context.Emit(ArmShapes.CredentialSet(created), ArmShapes.CredentialSetTable);
        });
    }

    private static Command SetUpdate(CommandBuilder builder)
    {
        var named = new Named(Set);
        var username = Optional("--username", "The new upstream username.", "-u");
        var password = Optional("--password", "The new upstream password or access token.", "-p");
        return builder.Leaf("update", "Replace the username and/or password of a credential set.", named.With(username, password), async context =>
        {
            if (context.Get(username) is null && context.Get(password) is null)
            {
                throw CliException.Usage("usage error: give --username, --password or both.");
            }
            var updated = await context.Management.SendAsync(HttpMethod.Patch, await named.PathAsync(context), ManagementClient.CacheApiVersion, new JsonObject
            {
                ["properties"] = new JsonObject { ["authCredentials"] = Credentials(context.Get(username), context.Get(password)) },
            });
            context.Emit(ArmShapes.CredentialSet(updated), ArmShapes.CredentialSetTable);
        });
    }

    private static JsonArray Credentials(string? username, string? password)
    {
        var credential = new JsonObject { ["name"] = "Credential1" };
        if (username is not null) credential["username"] = username;
        if (password is not null) credential["password"] = password;
        return [credential];
    }
}
