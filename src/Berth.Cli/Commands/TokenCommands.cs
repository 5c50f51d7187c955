using System.Globalization;
using static Berth.Cli.Commands.CommandBuilder;

namespace Berth.Cli.Commands;

/// <summary><c>berth acr token ...</c> and <c>berth acr scope-map ...</c> (reference §4.2–4.3, §5).</summary>
public static class TokenCommands
{
    public static readonly string[] RepositoryActions = ["content/delete", "content/read", "content/write", "metadata/read", "metadata/write"];
    public static readonly string[] GatewayActions = ["config/read", "config/write", "message/read", "message/write"];

    private static Option<string> Registry() => Required("--registry", "The name of the container registry.", "-r");

    public static Command Tokens(CommandBuilder builder) => builder.Group("token", "Manage tokens for an Azure Container Registry.",
        TokenCreate(builder), TokenUpdate(builder), Show(builder, Kind.Token), List(builder, Kind.Token, "List all tokens of a registry."),
        Delete(builder, Kind.Token, "invalidate access to anyone using its credentials"),
        builder.Group("credential", "Manage credentials of a token.", CredentialGenerate(builder), CredentialDelete(builder)));

    public static Command ScopeMaps(CommandBuilder builder) => builder.Group("scope-map", "Manage scope access maps for an Azure Container Registry.",
        ScopeMapCreate(builder), ScopeMapUpdate(builder), Show(builder, Kind.ScopeMap),
        List(builder, Kind.ScopeMap, "List all scope maps of a registry, the system-defined ones included."),
        Delete(builder, Kind.ScopeMap, "remove the permissions of the tokens that use it"));

    private static Command TokenCreate(CommandBuilder builder)
    {
        var named = new Named(Kind.Token);
        var scopeMap = Optional("--scope-map", "The name of the scope map to associate with the token.");
        var repository = Groups("--repository", "Repository permissions: a repository name and one or more actions (content/delete content/read content/write metadata/read metadata/write). Repeatable.", "REPO ACTION");
        var gateway = Groups("--gateway", "Connected-registry permissions: a gateway and one or more actions (config/read config/write message/read message/write). Repeatable.", "GATEWAY ACTION");
        var status = Choice("--status", "The status of the token.", ["enabled", "disabled"]);
        var noPasswords = ThreeState("--no-passwords", "Do not generate passwords; use 'berth acr token credential generate' later.");
        var days = new Option<int?>("--expiration-in-days") { Description = "Number of days for which the passwords are valid. Default: no expiry." };
        var expiration = Optional("--expiration", "UTC time at which the passwords expire, e.g. 2025-12-31T12:59:59Z.");
        return builder.Leaf("create", "Create a token associated with a scope map.",
            named.With(scopeMap, repository, gateway, status, noPasswords, days, expiration), async context =>
            {
                var token = context.Get(named.Name)!;
                var groups = RepositoryGroups(context, repository, gateway);
                var scopeMapName = context.Get(scopeMap);
                if (scopeMapName is not null && groups.Count > 0)
                {
                    throw CliException.Usage("usage error: --scope-map cannot be combined with --repository or --gateway.");
                }
                if (scopeMapName is null && groups.Count == 0)
                {
                    throw CliException.Usage("usage error: give --scope-map, or --repository (and/or --gateway) to create a scope map for the token.");
                }
                var expiry = Expiry(context, days, expiration);
                var path = await named.RegistryPathAsync(context);
                var management = context.Management;
                if (scopeMapName is null)
                {
                    // az creates "<token>-scope-map" holding the given actions; a PUT with the same actions is idempotent.
                    scopeMapName = $"{token}-scope-map";
                    await management.SendAsync(HttpMethod.Put, $"{path}/scopeMaps/{Uri.EscapeDataString(scopeMapName)}", ManagementClient.TokenApiVersion,
                        new JsonObject
                        {
                            ["properties"] = new JsonObject
                            {
                                ["description"] = $"Created by token: {token}",
                                ["actions"] = new JsonArray(groups.Select(a => (JsonNode)a).ToArray()),
                            },
                        });
                }
                var tokenPath = $"{path}/tokens/{Uri.EscapeDataString(token)}";
                var created = await management.SendAsync(HttpMethod.Put, tokenPath, ManagementClient.TokenApiVersion, new JsonObject
                {
                    ["properties"] = new JsonObject
                    {
                        ["scopeMapId"] = $"/{path}/scopeMaps/{scopeMapName}",
                        ["status"] = context.Get(status) ?? "enabled",
                    },
                });
                var result = ArmShapes.Token(created);
                if (context.Get(noPasswords) != true)
                {
                    var body = new JsonObject { ["tokenId"] = ServerLocator.FirstString(created, "id") ?? "/" + tokenPath };
                    if (expiry is not null)
                    {
                        body["expiry"] = expiry;
                    }
                    var credentials = await management.SendAsync(HttpMethod.Post, $"{path}/generateCredentials", ManagementClient.TokenApiVersion, body);
                    var merged = result["credentials"] as JsonObject ?? new JsonObject { ["certificates"] = new JsonArray() };
                    merged["passwords"] = credentials?["passwords"]?.DeepClone();
                    merged["username"] = credentials?["username"]?.DeepClone() ?? token;
                    result["credentials"] = merged;
                    var loginServer = ServerLocator.FirstString((await management.SendAsync(HttpMethod.Get, path, ManagementClient.RegistryApiVersion))?["properties"], "loginServer");
                    context.Warn($"Please store your generated credentials safely. Meanwhile you can use it through \"docker login {loginServer} -u {token} -p {ResultWriter.Scalar(credentials?["passwords"]?[0]?["value"])}\".");
                }
                context.Emit(result, ArmShapes.TokenTable);
            });
    }

    private static Command TokenUpdate(CommandBuilder builder)
    {
        var named = new Named(Kind.Token);
        var scopeMap = Optional("--scope-map", "The name of the scope map to associate with the token.");
        var status = Choice("--status", "The status of the token.", ["enabled", "disabled"]);
        return builder.Leaf("update", "Update a token (replace its scope map, enable or disable it).", named.With(scopeMap, status), async context =>
        {
            var path = await named.RegistryPathAsync(context);
            var properties = new JsonObject();
            if (context.Get(scopeMap) is { } map)
            {
                properties["scopeMapId"] = $"/{path}/scopeMaps/{map}";
            }
            // Unlike az 2.45, --status is sent only when given: an update never re-enables a disabled token by accident.
            if (context.Get(status) is { } statusValue)
            {
                properties["status"] = statusValue;
            }
            var updated = await context.Management.SendAsync(HttpMethod.Patch, $"{path}/tokens/{Uri.EscapeDataString(context.Get(named.Name)!)}",
                ManagementClient.TokenApiVersion, new JsonObject { ["properties"] = properties });
            context.Emit(ArmShapes.Token(updated), ArmShapes.TokenTable);
        });
    }

    private static Command CredentialGenerate(CommandBuilder builder)
    {
        var named = new Named(Kind.Token);
        var password1 = Flag("--password1", "Regenerate only password1.");
        var password2 = Flag("--password2", "Regenerate only password2.");
        var days = new Option<int?>("--expiration-in-days") { Description = "Number of days for which the passwords are valid. Default: no expiry." };
        var expiration = Optional("--expiration", "UTC time at which the passwords expire, e.g. 2025-12-31T12:59:59Z.");
        return builder.Leaf("generate", "Generate or replace one or both passwords of a token.", named.With(password1, password2, days, expiration), async context =>
        {
            var expiry = Expiry(context, days, expiration);
            var path = await named.RegistryPathAsync(context);
            var body = new JsonObject { ["tokenId"] = $"/{path}/tokens/{context.Get(named.Name)}" };
            // A name only when exactly one password is asked for; none means both, as in az.
            if (context.Get(password1) ^ context.Get(password2))
            {
                body["name"] = context.Get(password1) ? "password1" : "password2";
            }
            if (expiry is not null)
            {
                body["expiry"] = expiry;
            }
            var credentials = await context.Management.SendAsync(HttpMethod.Post, $"{path}/generateCredentials", ManagementClient.TokenApiVersion, body);
            var result = new JsonObject { ["passwords"] = null, ["username"] = null };
            foreach (var (key, value) in credentials as JsonObject ?? [])
            {
                result[key] = value?.DeepClone();
            }
            context.Emit(result);
        });
    }

    private static Command CredentialDelete(CommandBuilder builder)
    {
        var named = new Named(Kind.Token);
        var password1 = Flag("--password1", "Delete password1.");
        var password2 = Flag("--password2", "Delete password2.");
        return builder.Leaf("delete", "Delete a token's password(s).", named.With(password1, password2), async context =>
        {
            if (!context.Get(password1) && !context.Get(password2))
            {
                throw CliException.Usage("usage error: give --password1, --password2 or both.");
            }
            var tokenPath = await named.PathAsync(context);
            var token = await context.Management.SendAsync(HttpMethod.Get, tokenPath, ManagementClient.TokenApiVersion);
            // ARM drops every password not named in the PATCH: send the names to keep.
            var keep = ((token?["properties"]?["credentials"]?["passwords"] as JsonArray) ?? [])
                .Select(p => ServerLocator.FirstString(p, "name"))
                .OfType<string>()
                .Where(n => !(n == "password1" && context.Get(password1)) && !(n == "password2" && context.Get(password2)))
                .Select(n => (JsonNode)new JsonObject { ["name"] = n })
                .ToArray();
            var updated = await context.Management.SendAsync(HttpMethod.Patch, tokenPath, ManagementClient.TokenApiVersion, new JsonObject
            {
                ["properties"] = new JsonObject { ["credentials"] = new JsonObject { ["passwords"] = new JsonArray(keep) } },
            });
            context.Emit(ArmShapes.Token(updated), ArmShapes.TokenTable);
        });
    }

    private static Command ScopeMapCreate(CommandBuilder builder)
    {
        var named = new Named(Kind.ScopeMap);
        var repository = Groups("--repository", "Repository permissions: a repository name and one or more actions. Repeatable.", "REPO ACTION");
        var gateway = Groups("--gateway", "Connected-registry permissions: a gateway and one or more actions. Repeatable.", "GATEWAY ACTION");
        var description = Optional("--description", "Description for the scope map (at most 256 characters).");
        return builder.Leaf("create", "Create a scope map for an Azure Container Registry.", named.With(repository, gateway, description), async context =>
        {
            var actions = RepositoryGroups(context, repository, gateway);
            if (actions.Count == 0)
            {
                throw CliException.Usage("usage error: at least one of --repository or --gateway is required.");
            }
            var mapPath = await named.PathAsync(context);
            var properties = new JsonObject { ["actions"] = new JsonArray(actions.Select(a => (JsonNode)a).ToArray()) };
            if (context.Get(description) is { } text)
            {
                properties["description"] = text;
            }
            var created = await context.Management.SendAsync(HttpMethod.Put, mapPath, ManagementClient.TokenApiVersion, new JsonObject { ["properties"] = properties });
            context.Emit(ArmShapes.ScopeMap(created), ArmShapes.ScopeMapTable);
        });
    }

    private static Command ScopeMapUpdate(CommandBuilder builder)
    {
        var named = new Named(Kind.ScopeMap);
        var addRepository = Groups("--add-repository", "Repository permissions to add: a repository and actions. Repeatable.", "REPO ACTION");
        var removeRepository = Groups("--remove-repository", "Repository permissions to remove: a repository and actions. Repeatable.", "REPO ACTION");
        var addGateway = Groups("--add-gateway", "Gateway permissions to add. Repeatable.", "GATEWAY ACTION");
        var removeGateway = Groups("--remove-gateway", "Gateway permissions to remove. Repeatable.", "GATEWAY ACTION");
        var description = Optional("--description", "Description for the scope map.");
        return builder.Leaf("update", "Update a scope map.", named.With(addRepository, removeRepository, addGateway, removeGateway, description), async context =>
        {
            var add = RepositoryGroups(context, addRepository, addGateway);
            var remove = RepositoryGroups(context, removeRepository, removeGateway);
            if (add.Intersect(remove, StringComparer.Ordinal).FirstOrDefault() is { } both)
            {
                throw CliException.Usage($"usage error: '{both}' is both added and removed.");
            }
            var mapPath = await named.PathAsync(context);
            var current = await context.Management.SendAsync(HttpMethod.Get, mapPath, ManagementClient.TokenApiVersion);
            var actions = ((current?["properties"]?["actions"] as JsonArray) ?? []).Select(a => ResultWriter.Scalar(a)).ToList();
            actions = actions.Union(add, StringComparer.Ordinal).Except(remove, StringComparer.Ordinal).ToList();
            var properties = new JsonObject { ["actions"] = new JsonArray(actions.Select(a => (JsonNode)a).ToArray()) };
            if (context.Get(description) is { } text)
            {
                properties["description"] = text;
            }
            var updated = await context.Management.SendAsync(HttpMethod.Patch, mapPath, ManagementClient.TokenApiVersion, new JsonObject { ["properties"] = properties });
            context.Emit(ArmShapes.ScopeMap(updated), ArmShapes.ScopeMapTable);
        });
    }

    /// <summary>A resource under a registry (a token, a scope map, a cache rule ...), shown and listed in its own shape.</summary>
    internal sealed record Kind(string Noun, string Collection, Func<JsonNode?, JsonObject> Shape, TableLayout Table, string ApiVersion = ManagementClient.TokenApiVersion)
    {
        public static readonly Kind Token = new("token", "tokens", ArmShapes.Token, ArmShapes.TokenTable);
        public static readonly Kind ScopeMap = new("scope map", "scopeMaps", ArmShapes.ScopeMap, ArmShapes.ScopeMapTable);
    }

    /// <summary><c>--name</c>, <c>--registry</c> and <c>--resource-group</c>: the options naming one resource under a registry.</summary>
    internal sealed record Named(Kind Kind, Option<string> Name, Option<string> Registry, Option<string?> Group)
    {
        public Named(Kind kind) : this(kind, Required("--name", $"The name of the {kind.Noun}.", "-n"), TokenCommands.Registry(), RegistryCommands.ResourceGroup())
        {
        }

        public Option[] With(params Option[] more) => [Name, Registry, Group, .. more];

        public Task<string> RegistryPathAsync(CommandContext context) => TokenCommands.RegistryPathAsync(context, Registry, Group);

        public async Task<string> PathAsync(CommandContext context) =>
            $"{await RegistryPathAsync(context)}/{Kind.Collection}/{Uri.EscapeDataString(context.Get(Name)!)}";
    }

    internal static Command Show(CommandBuilder builder, Kind kind)
    {
        var named = new Named(kind);
        return builder.Leaf("show", $"Show details and attributes of a {kind.Noun}.", named.With(), async context =>
        {
            var resource = await context.Management.SendAsync(HttpMethod.Get, await named.PathAsync(context), kind.ApiVersion);
            context.Emit(kind.Shape(resource), kind.Table);
        });
    }

    internal static Command List(CommandBuilder builder, Kind kind, string description)
    {
        var registry = Registry();
        var group = RegistryCommands.ResourceGroup();
        return builder.Leaf("list", description, [registry, group], async context =>
        {
            var path = await RegistryPathAsync(context, registry, group);
            var items = await RegistryCommands.ListAllAsync(context, $"{path}/{kind.Collection}", kind.ApiVersion);
            context.Emit(new JsonArray(items.Select(i => (JsonNode)kind.Shape(i)).ToArray()), kind.Table);
        });
    }

    internal static Command Delete(CommandBuilder builder, Kind kind, string consequence)
    {
        var named = new Named(kind);
        var yes = Flag("--yes", "Do not prompt for confirmation.", "-y");
        return builder.Leaf("delete", $"Delete a {kind.Noun}.", named.With(yes), async context =>
        {
            var path = await named.PathAsync(context);
            context.Confirm(context.Get(yes), $"Deleting the {kind.Noun} '{context.Get(named.Name)}' will {consequence}.");
            await context.Management.SendAsync(HttpMethod.Delete, path, kind.ApiVersion);
            context.Emit(null);
        });
    }

    private static Task<string> RegistryPathAsync(CommandContext context, Option<string> registry, Option<string?> group) =>
        RegistryCommands.RegistryPathAsync(context, registry, group);

    /// <summary>Turns <c>--repository REPO ACTION...</c> and <c>--gateway GW ACTION...</c> occurrences into ARM action strings, validating the actions as az does.</summary>
    public static List<string> RepositoryGroups(CommandContext context, Option<string[]> repository, Option<string[]> gateway)
    {
        var actions = new List<string>();
        foreach (var (option, prefix, valid) in new[] { (repository, "repositories", RepositoryActions), (gateway, "gateway", GatewayActions) })
        {
            foreach (var occurrence in CommandBuilder.OccurrencesOf(context.ParseResult, option))
            {
                if (occurrence.Length < 2)
                {
                    throw CliException.Usage($"usage error: {option.Name} takes a name followed by one or more actions ({string.Join(", ", valid)}).");
                }
                foreach (var action in occurrence[1..])
                {
                    if (!valid.Contains(action, StringComparer.Ordinal))
                    {
                        throw CliException.Usage($"usage error: '{action}' is not a valid action for {option.Name}; use {string.Join(", ", valid)}.");
                    }
                    var full = $"{prefix}/{occurrence[0]}/{action}";
                    if (!actions.Contains(full))
                    {
                        actions.Add(full);
                    }
                }
            }
        }
        return actions;
    }

    private static string? Expiry(CommandContext context, Option<int?> days, Option<string?> expiration)
    {
        var inDays = context.Get(days);
        var at = context.Get(expiration);
        if (inDays is not null && at is not null)
        {
            throw CliException.Usage("usage error: --expiration and --expiration-in-days are mutually exclusive.");
        }
        if (inDays is { } count)
        {
            if (count <= 0)
            {
                throw CliException.Usage("argument --expiration-in-days: must be a positive number of days.");
            }
            return DateTime.UtcNow.AddDays(count).ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
        }
        if (at is not null)
        {
            if (!DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                throw CliException.Usage($"argument --expiration: '{at}' is not a date and time, e.g. 2025-12-31T12:59:59Z.");
            }
            return parsed.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
        }
        return null;
    }
}
