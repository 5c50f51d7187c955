using static Berth.Cli.Commands.CommandBuilder;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth acr create|update|show|list|delete|check-name|show-usage</c> and <c>acr credential show|renew</c> (reference §5),
/// plus Berth's <c>acr activity-log</c>.
/// </summary>
public static class RegistryCommands
{
    public static readonly string[] Skus = ["Basic", "Standard", "Premium"];

    public static IEnumerable<Command> Build(CommandBuilder builder)
    {
        yield return Create(builder);
        yield return Update(builder);
        yield return Show(builder);
        yield return List(builder);
        yield return Delete(builder);
        yield return CheckName(builder);
        yield return ShowUsage(builder);
        yield return ActivityLog(builder);
        yield return CheckAccess(builder);
        yield return builder.Group("credential", "Manage login credentials for the registry's admin user.", CredentialShow(builder), CredentialRenew(builder));
    }

    /// <summary>
    /// Where a registry goes when <c>-g</c> is not given, as az's <c>defaults.group</c>: berth config's
    /// <c>defaults.group</c>, else the resource group the server puts its default registry in (its endpoint.json), so a
    /// single-machine user never has to invent one.
    /// </summary>
    public static string DefaultResourceGroup(CommandContext context) =>
        UserConfig.Get(context.Environment, UserConfig.DefaultGroup)
        ?? ServerLocator.FirstString(ServerLocator.ReadEndpointFileOrNull(ServerLocator.DataFolder(context)), "resourceGroup")
        ?? throw CliException.Usage($"the following arguments are required: --resource-group/-g (or set a default: berth config set {UserConfig.DefaultGroup}=<group>)");

    public static Option<string> RegistryName(string description = "The name of the container registry.") =>
        Required("--name", description, "-n");

    public static Option<string?> ResourceGroup() =>
        Optional("--resource-group", "Name of resource group. When omitted, it is found through the resources list.", "-g");

    /// <summary>az strips a trailing login-server suffix from a registry name, with a warning.</summary>
    public static string RegistryNameValue(CommandContext context, Option<string> option)
    {
        var name = context.Get(option)!;
        var dot = name.IndexOf('.');
        if (dot > 0 && !name.Contains(':'))
        {
            context.Warn($"The login server endpoint suffix '{name[dot..]}' is automatically omitted.");
            name = name[..dot];
        }
        return name;
    }

    private static Command Create(CommandBuilder builder)
    {
        var name = RegistryName("The name of the container registry. It should be specified in lower case.");
        var group = Optional("--resource-group", $"Name of resource group. Default: berth config's {UserConfig.DefaultGroup}, else the server's default resource group.", "-g");
        var sku = Choice("--sku", "The SKU of the container registry.", Skus);
        sku.Required = true;
        var location = Optional("--location", "Location. Default: the resource group's location.", "-l");
        var settings = new Settings();
        var zone = Choice("--zone-redundancy", "Zone redundancy.", ["Enabled", "Disabled"]);
        var tags = Tags();
        return builder.Leaf("create", "Create an Azure Container Registry.",
            [name, group, sku, location, .. settings.All(zone), tags],
            async context =>
            {
                var management = context.Management;
                var registry = context.Get(name)!;
                var resourceGroup = context.Get(group) ?? DefaultResourceGroup(context);
                var subscription = await management.GetSubscriptionIdAsync();
                var where = context.Get(location) ?? await ResourceGroupLocationAsync(context, subscription, resourceGroup);
                var properties = new JsonObject
                {
                    ["adminUserEnabled"] = context.Get(settings.Admin) ?? false,
                    ["anonymousPullEnabled"] = context.Get(settings.Anonymous) ?? false,
                };
                settings.AddNetworkProperties(context, properties);
                if (context.Get(zone) is { } zoneValue)
                {
                    properties["zoneRedundancy"] = zoneValue;
                }
                var body = new JsonObject
                {
                    ["location"] = where,
                    ["sku"] = new JsonObject { ["name"] = context.Get(sku) },
                    ["properties"] = properties,
                };
                if (TagsValue(context, tags) is { } tagObject)
                {
                    body["tags"] = tagObject;
                }
                var path = $"subscriptions/{subscription}/resourceGroups/{Uri.EscapeDataString(resourceGroup)}/providers/{ManagementClient.RegistryType}/{Uri.EscapeDataString(registry)}";
                var created = await management.SendAsync(HttpMethod.Put, path, ManagementClient.RegistryApiVersion, body);
                context.Emit(ArmShapes.Registry(created), ArmShapes.RegistryTable);
            });
    }

    private static Command Update(CommandBuilder builder)
    {
        var named = new NamedRegistry();
        var sku = Choice("--sku", "The SKU of the container registry.", Skus);
        var settings = new Settings();
        var tags = Tags();
        var publicRepositories = new Option<string[]>("--anonymous-pull-repositories")
        {
            Description = "Berth: limit anonymous pull to these repository patterns (scope-map wildcards: \"public/*\", \"docs/site\"); \"*\" or no value means every repository. Kept while anonymous pull is off.",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.ZeroOrMore,
            HelpName = "PATTERN",
        };
        return builder.Leaf("update", "Update an Azure Container Registry.",
            named.With([sku, .. settings.All(), publicRepositories, tags]),
            async context =>
            {
                var path = await named.PathAsync(context);
                // az's generic update: read first (existence, SKU), then PATCH only what the command line changes.
                await context.Management.SendAsync(HttpMethod.Get, path, ManagementClient.RegistryApiVersion);
                var properties = new JsonObject();
                if (context.Get(settings.Admin) is { } adminValue)
                {
                    properties["adminUserEnabled"] = adminValue;
                }
                if (context.Get(settings.Anonymous) is { } anonymousValue)
                {
                    properties["anonymousPullEnabled"] = anonymousValue;
                }
                if (context.Given(publicRepositories))
                {
                    properties["anonymousPullRepositories"] = new JsonArray((context.Get(publicRepositories) ?? []).Select(p => (JsonNode?)p).ToArray());
                }
                settings.AddNetworkProperties(context, properties);
                var body = new JsonObject();
                if (context.Get(sku) is { } skuValue)
                {
                    body["sku"] = new JsonObject { ["name"] = skuValue };
                }
                if (TagsValue(context, tags) is { } tagObject)
                {
                    body["tags"] = tagObject;
                }
                if (properties.Count > 0)
                {
                    body["properties"] = properties;
                }
                var updated = await context.Management.SendAsync(HttpMethod.Patch, path, ManagementClient.RegistryApiVersion, body);
                context.Emit(ArmShapes.Registry(updated), ArmShapes.RegistryTable);
            });
    }

    /// <summary>Berth's "who can pull this?": the actions one subject may take on a repository, and what grants each.</summary>
    private static Command CheckAccess(CommandBuilder builder)
    {
        var named = new NamedRegistry();
        var repository = Required("--repository", "The repository to check, e.g. public/base.");
        var anonymous = Flag("--anonymous", "Check a caller without credentials.");
        var token = Optional("--token", "Check the repository-scoped token with this name.");
        var admin = Flag("--admin", "Check the registry's admin user.");
        return builder.Leaf("check-access", "Berth: show what a caller may do on a repository, and the rule that grants each action.",
            named.With([repository, anonymous, token, admin]),
            async context =>
            {
                var subjects = (context.Get(anonymous) ? 1 : 0) + (context.Get(admin) ? 1 : 0) + (context.Get(token) is null ? 0 : 1);
                if (subjects != 1)
                {
                    throw new CliException("Name exactly one of --anonymous, --token NAME or --admin.");
                }
                var body = new JsonObject { ["repository"] = context.Get(repository) };
                if (context.Get(anonymous)) body["anonymous"] = true;
                if (context.Get(admin)) body["admin"] = true;
                if (context.Get(token) is { } tokenName) body["token"] = tokenName;
                var result = await context.Management.SendAsync(HttpMethod.Post, await named.PathAsync(context) + "/checkAccess", ManagementClient.RegistryApiVersion, body);
                context.Emit(result, AccessTable);
            });
    }

    private static readonly TableLayout AccessTable = new(
    [
        ("ACTION", item => string.Join(Environment.NewLine, Entries(item).Select(e => e?["action"]?.GetValue<string>()))),
        ("GRANTED BY", item => string.Join(Environment.NewLine, Entries(item).Select(e => string.Join("; ", (e?["grantedBy"] as JsonArray ?? []).Select(g => g?.GetValue<string>()))))),
    ]);

    private static IEnumerable<JsonNode?> Entries(JsonNode? item) => item?["actions"] as JsonArray ?? [];

    private static Command Show(CommandBuilder builder)
    {
        var named = new NamedRegistry();
        return builder.Leaf("show", "Get the details of an Azure Container Registry.", named.With(), async context =>
        {
            var registry = await context.Management.SendAsync(HttpMethod.Get, await named.PathAsync(context), ManagementClient.RegistryApiVersion);
            context.Emit(ArmShapes.Registry(registry), ArmShapes.RegistryTable);
        });
    }

    private static Command List(CommandBuilder builder)
    {
        var group = Optional("--resource-group", "Name of resource group.", "-g");
        return builder.Leaf("list", "List all container registries under the current subscription.", [group], async context =>
        {
            var subscription = await context.Management.GetSubscriptionIdAsync();
            var path = context.Get(group) is { } resourceGroup
                ? $"subscriptions/{subscription}/resourceGroups/{Uri.EscapeDataString(resourceGroup)}/providers/{ManagementClient.RegistryType}"
                : $"subscriptions/{subscription}/providers/{ManagementClient.RegistryType}";
            var items = await ListAllAsync(context, path, ManagementClient.RegistryApiVersion);
            context.Emit(new JsonArray(items.Select(i => (JsonNode)ArmShapes.Registry(i)).ToArray()), ArmShapes.RegistryTable);
        });
    }

    private static Command Delete(CommandBuilder builder)
    {
        var named = new NamedRegistry();
        var yes = Flag("--yes", "Do not prompt for confirmation.", "-y");
        return builder.Leaf("delete", "Delete an Azure Container Registry.", named.With(yes), async context =>
        {
            var path = await named.PathAsync(context);
            context.Confirm(context.Get(yes), $"The registry '{context.Get(named.Name)}' and all its content will be deleted.");
            await context.Management.SendAsync(HttpMethod.Delete, path, ManagementClient.RegistryApiVersion);
            context.Emit(null);
        });
    }

    private static Command CheckName(CommandBuilder builder)
    {
        var name = RegistryName("The name of the container registry.");
        return builder.Leaf("check-name", "Check if an Azure Container Registry name is valid and available for use.", [name], async context =>
        {
            var subscription = await context.Management.GetSubscriptionIdAsync();
            var result = await context.Management.SendAsync(HttpMethod.Post,
                $"subscriptions/{subscription}/providers/Microsoft.ContainerRegistry/checkNameAvailability",
                ManagementClient.RegistryApiVersion,
                new JsonObject { ["name"] = context.Get(name), ["type"] = ManagementClient.RegistryType });
            var shaped = new JsonObject { ["message"] = null, ["nameAvailable"] = null, ["reason"] = null };
            foreach (var (key, value) in result as JsonObject ?? [])
            {
                shaped[key] = value?.DeepClone();
            }
            context.Emit(shaped, ArmShapes.CheckNameTable);
        });
    }

    private static Command ShowUsage(CommandBuilder builder)
    {
        var named = new NamedRegistry();
        return builder.Leaf("show-usage", "Get the storage usage for an Azure Container Registry.", named.With(), async context =>
        {
            var usages = await context.Management.SendAsync(HttpMethod.Get, await named.PathAsync(context) + "/listUsages", ManagementClient.RegistryApiVersion);
            var value = new JsonArray(((usages?["value"] as JsonArray) ?? []).Select(u =>
            {
                var item = new JsonObject { ["currentValue"] = null, ["limit"] = null, ["name"] = null, ["unit"] = null };
                foreach (var (key, field) in u as JsonObject ?? [])
                {
                    item[key] = field?.DeepClone();
                }
                return (JsonNode)item;
            }).ToArray());
            if (context.Output == OutputFormat.Table && string.IsNullOrWhiteSpace(context.Query))
            {
                // az's table transformer for show-usage renders the list inside "value".
                context.Emit(value, ArmShapes.UsageTable);
                return;
            }
            context.Emit(new JsonObject { ["value"] = value });
        });
    }

    /// <summary>Berth's own command (az has none): the registry's activity log, newest first.</summary>
    private static Command ActivityLog(CommandBuilder builder)
    {
        var named = new NamedRegistry();
        var top = Optional("--top", "How many entries to show, newest first (1 to 1000). Default: 100.");
        return builder.Leaf("activity-log", "Show who changed the registry's settings, when, and from what to what (Berth only; not in az).",
            named.With(top), async context =>
            {
                var path = await named.PathAsync(context) + "/activityLog";
                if (context.Get(top) is { } count) path += "?$top=" + Uri.EscapeDataString(count);
                var log = await context.Management.SendAsync(HttpMethod.Get, path, ManagementClient.RegistryApiVersion);
                context.Emit(log?["value"]?.DeepClone() ?? new JsonArray(), ArmShapes.ActivityLogTable);
            });
    }

    private static Command CredentialShow(CommandBuilder builder) =>
        Credential(builder, "show", "Get the login credentials for an Azure Container Registry.", "/listCredentials", []);

    private static Command CredentialRenew(CommandBuilder builder)
    {
        var passwordName = Choice("--password-name", "The name of password to regenerate.", ["password", "password2"]);
        passwordName.Required = true;
        return Credential(builder, "renew", "Regenerate login credentials for an Azure Container Registry.", "/regenerateCredential", [passwordName],
            context => new JsonObject { ["name"] = context.Get(passwordName) });
    }

    /// <summary>
    /// Posts to one of the registry's admin-credential operations and shows the answer in az's shape. az refuses on
    /// the client when the admin user is off, before asking for credentials.
    /// </summary>
    private static Command Credential(CommandBuilder builder, string name, string description, string operation, Option[] options,
        Func<CommandContext, JsonNode>? body = null)
    {
        var named = new NamedRegistry();
        return builder.Leaf(name, description, named.With(options), async context =>
        {
            var path = await named.PathAsync(context);
            var registry = await context.Management.SendAsync(HttpMethod.Get, path, ManagementClient.RegistryApiVersion);
            if (ArmShapes.Registry(registry)["adminUserEnabled"]?.GetValue<bool>() != true)
            {
                var registryName = RegistryNameValue(context, named.Name);
                throw new CliException($"Run 'berth acr update -n {registryName} --admin-enabled true' to enable admin first.");
            }
            var credentials = await context.Management.SendAsync(HttpMethod.Post, path + operation, ManagementClient.RegistryApiVersion, body?.Invoke(context));
            var result = new JsonObject { ["passwords"] = null, ["username"] = null };
            foreach (var (key, value) in credentials as JsonObject ?? [])
            {
                result[key] = value?.DeepClone();
            }
            context.Emit(result, CredentialTable);
        });
    }

    private static readonly TableLayout CredentialTable = new(
    [
        ("USERNAME", c => ResultWriter.Scalar(c?["username"])),
        ("PASSWORD", c => ResultWriter.Scalar(c?["passwords"]?[0]?["value"])),
        ("PASSWORD2", c => ResultWriter.Scalar(c?["passwords"]?[1]?["value"])),
    ]);

    /// <summary><c>--name</c> and <c>--resource-group</c>: the options naming one registry.</summary>
    internal sealed record NamedRegistry(Option<string> Name, Option<string?> Group)
    {
        public NamedRegistry() : this(RegistryName(), ResourceGroup())
        {
        }

        public Option[] With(params Option[] more) => [Name, Group, .. more];

        public Task<string> PathAsync(CommandContext context) => RegistryPathAsync(context, Name, Group);
    }

    public static Task<string> RegistryPathAsync(CommandContext context, Option<string> name, Option<string?> group) =>
        context.Management.RegistryPathAsync(RegistryNameValue(context, name), context.Get(group));

    /// <summary>Every page of a list, following ARM's nextLink; <paramref name="firstPage"/> is the method of the first request (listEvents is a POST), the next ones GET nextLink.</summary>
    public static async Task<List<JsonNode?>> ListAllAsync(CommandContext context, string path, string apiVersion, HttpMethod? firstPage = null)
    {
        var items = new List<JsonNode?>();
        var page = await context.Management.SendAsync(firstPage ?? HttpMethod.Get, path, apiVersion);
        items.AddRange(((page?["value"] as JsonArray) ?? []).Select(v => v?.DeepClone()));
        var guard = 0;
        while (ServerLocator.FirstString(page, "nextLink") is { } next && guard++ < 1000)
        {
            var uri = new Uri(next, UriKind.RelativeOrAbsolute);
            var relative = uri.IsAbsoluteUri ? uri.PathAndQuery.TrimStart('/') : next.TrimStart('/');
            // nextLink carries its own api-version; SendAsync adds one, and ARM takes the first.
            page = await context.Management.SendAsync(HttpMethod.Get, relative, apiVersion);
            items.AddRange(((page?["value"] as JsonArray) ?? []).Select(v => v?.DeepClone()));
        }
        return items;
    }

    private static async Task<string> ResourceGroupLocationAsync(CommandContext context, string subscription, string resourceGroup)
    {
        try
        {
            var group = await context.Management.SendAsync(HttpMethod.Get,
                $"subscriptions/{subscription}/resourcegroups/{Uri.EscapeDataString(resourceGroup)}", ManagementClient.ResourcesApiVersion);
            return ServerLocator.FirstString(group, "location") ?? "local";
        }
        catch (CliException error) when (error.ExitCode == CliException.NotFoundExitCode)
        {
            // Berth creates resource groups on first use; the server's default location applies then.
            return "local";
        }
    }

    /// <summary>The registry settings that <c>acr create</c> and <c>acr update</c> both take.</summary>
    private sealed record Settings(Option<Toggle?> Admin, Option<Toggle?> Anonymous, Option<Toggle?> PublicNetwork, Option<Toggle?> Trusted,
        Option<Toggle?> Exports, Option<string?> DefaultAction, Option<Toggle?> DataEndpoint)
    {
        public Settings() : this(
            ThreeState("--admin-enabled", "Indicates whether the admin user is enabled."),
            ThreeState("--anonymous-pull-enabled", "Allow pulls of all content without credentials (Standard and Premium)."),
            ThreeState("--public-network-enabled", "Allow public network access."),
            ThreeState("--allow-trusted-services", "Allow trusted Azure services to bypass network rules."),
            ThreeState("--allow-exports", "Allow exporting artifacts."),
            Choice("--default-action", "Default action when no network rule matches (Premium).", ["Allow", "Deny"]),
            ThreeState("--data-endpoint-enabled", "Enable dedicated data endpoints."))
        {
        }

        /// <summary>The options in az's order; create's --zone-redundancy goes before --data-endpoint-enabled.</summary>
        public Option[] All(params Option[] beforeDataEndpoint) =>
            [Admin, Anonymous, PublicNetwork, Trusted, Exports, DefaultAction, .. beforeDataEndpoint, DataEndpoint];

        public void AddNetworkProperties(CommandContext context, JsonObject properties)
        {
            if (context.Get(PublicNetwork) is { } network)
            {
                properties["publicNetworkAccess"] = network ? "Enabled" : "Disabled";
            }
            if (context.Get(Trusted) is { } bypass)
            {
                properties["networkRuleBypassOptions"] = bypass ? "AzureServices" : "None";
            }
            if (context.Get(Exports) is { } export)
            {
                properties["policies"] = new JsonObject { ["exportPolicy"] = new JsonObject { ["status"] = export ? "enabled" : "disabled" } };
            }
            if (context.Get(DefaultAction) is { } action)
            {
                properties["networkRuleSet"] = new JsonObject { ["defaultAction"] = action };
            }
            if (context.Get(DataEndpoint) is { } endpoint)
            {
                properties["dataEndpointEnabled"] = endpoint;
            }
        }
    }

    public static Option<string[]> Tags() => KeyValues("--tags", "Space-separated tags: key[=value] [key[=value] ...]. Use \"\" to clear existing tags.");

    /// <summary>az's <c>key[=value] ...</c> options (<c>--tags</c>, <c>--headers</c>), read by <see cref="TagsValue"/>.</summary>
    public static Option<string[]> KeyValues(string name, string description) => new(name)
    {
        Description = description,
        AllowMultipleArgumentsPerToken = true,
        Arity = ArgumentArity.ZeroOrMore,
    };

    /// <summary>The object a <see cref="KeyValues"/> option gives, or null when it was not given.</summary>
    public static JsonObject? TagsValue(CommandContext context, Option<string[]> tags)
    {
        if (!context.Given(tags))
        {
            return null;
        }
        var result = new JsonObject();
        foreach (var tag in context.Get(tags) ?? [])
        {
            if (tag.Length == 0)
            {
                continue;
            }
            var equals = tag.IndexOf('=');
            result[equals < 0 ? tag : tag[..equals]] = equals < 0 ? "" : tag[(equals + 1)..];
        }
        return result;
    }
}
