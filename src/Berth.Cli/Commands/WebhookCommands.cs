using static Berth.Cli.Commands.CommandBuilder;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth acr webhook ...</c>, with az's options and output: the service URI and headers are sent, never shown,
/// except by <c>get-config</c>; <c>update</c> PATCHes only the fields given, as az does.
/// </summary>
public static class WebhookCommands
{
    private static readonly string[] Actions = ["chart_delete", "chart_push", "delete", "push", "quarantine"];

    public static Command Webhooks(CommandBuilder builder) => builder.Group("webhook", "Manage webhooks for Azure Container Registries.",
        Create(builder), Update(builder), Show(builder), List(builder), Delete(builder), GetConfig(builder), ListEvents(builder), Ping(builder));

    /// <summary><c>--name</c>, <c>--registry</c> and <c>--resource-group</c>: the options naming one webhook.</summary>
    private sealed record Named(Option<string> Name, Option<string> Registry, Option<string?> Group)
    {
        public Named() : this(Required("--name", "The name of the webhook.", "-n"), RegistryOption(), RegistryCommands.ResourceGroup())
        {
        }

        public Option[] With(params Option[] more) => [Name, Registry, Group, .. more];

        public Task<string> RegistryPathAsync(CommandContext context) => RegistryCommands.RegistryPathAsync(context, Registry, Group);

        public async Task<string> PathAsync(CommandContext context) =>
            $"{await RegistryPathAsync(context)}/webhooks/{Uri.EscapeDataString(context.Get(Name)!)}";
    }

    private static Option<string> RegistryOption() => Required("--registry", "The name of the container registry.", "-r");

    private static Option<string[]> ActionsOption(bool required)
    {
        var option = new Option<string[]>("--actions")
        {
            Description = $"Space-separated list of actions that trigger the webhook to post notifications. Allowed values: {string.Join(", ", Actions)}.",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore,
            Required = required,
        };
        option.Validators.Add(result =>
        {
            foreach (var value in result.Tokens.Select(t => t.Value).Where(v => !Actions.Contains(v)))
                result.AddError($"argument --actions: invalid choice: '{value}' (choose from {string.Join(", ", Actions.Select(a => $"'{a}'"))})");
        });
        return option;
    }

    private static Option<string[]> HeadersOption() =>
        RegistryCommands.KeyValues("--headers", "Space-separated custom headers in 'key[=value]' format that will be added to the webhook notifications. Use {} to clear existing headers.");

    private static Option<string?> StatusOption() => Choice("--status", "Indicates whether the webhook is enabled.", ["disabled", "enabled"]);

    private static Option<string?> ScopeOption() =>
        Optional("--scope", "The scope of repositories where the event can be triggered. For example, 'foo:*' means events for all tags under repository 'foo'. 'foo:bar' means events for 'foo:bar' only. 'foo' is equivalent to 'foo:latest'. Empty means events for all repositories.");

    private static Command Create(CommandBuilder builder)
    {
        var named = new Named();
        var uri = Required("--uri", "The service URI for the webhook to post notifications.");
        var actions = ActionsOption(required: true);
        var headers = HeadersOption();
        var status = StatusOption();
        var scope = ScopeOption();
        var location = Optional("--location", "Location. Defaults to the registry's location.", "-l");
        var tags = RegistryCommands.Tags();
        return builder.Leaf("create", "Create a webhook for an Azure Container Registry.", named.With(uri, actions, headers, status, scope, location, tags), async context =>
        {
            var registryPath = await named.RegistryPathAsync(context);
            var properties = new JsonObject
            {
                ["serviceUri"] = context.Get(uri),
                ["actions"] = new JsonArray((context.Get(actions) ?? []).Select(a => (JsonNode)a).ToArray()),
                ["status"] = context.Get(status) ?? "enabled",
            };
            if (RegistryCommands.TagsValue(context, headers) is { } given) properties["customHeaders"] = given;
            if (context.Get(scope) is { } scopeValue) properties["scope"] = scopeValue;
            var body = new JsonObject
            {
                ["location"] = context.Get(location)
                    ?? ServerLocator.FirstString(await context.Management.SendAsync(HttpMethod.Get, registryPath, ManagementClient.RegistryApiVersion), "location"),
                ["properties"] = properties,
            };
            if (RegistryCommands.TagsValue(context, tags) is { } tagValues) body["tags"] = tagValues;
            var created = await context.Management.SendAsync(HttpMethod.Put, await named.PathAsync(context), ManagementClient.RegistryApiVersion, body);
            context.Emit(ArmShapes.Webhook(created), ArmShapes.WebhookTable);
        });
    }

    private static Command Update(CommandBuilder builder)
    {
        var named = new Named();
        var uri = Optional("--uri", "The service URI for the webhook to post notifications.");
        var actions = ActionsOption(required: false);
        var headers = HeadersOption();
        var status = StatusOption();
        var scope = ScopeOption();
        var tags = RegistryCommands.Tags();
        return builder.Leaf("update", "Update a webhook.", named.With(uri, actions, headers, status, scope, tags), async context =>
        {
            var properties = new JsonObject();
            if (context.Get(uri) is { } uriValue) properties["serviceUri"] = uriValue;
            if (context.Given(actions)) properties["actions"] = new JsonArray((context.Get(actions) ?? []).Select(a => (JsonNode)a).ToArray());
            if (RegistryCommands.TagsValue(context, headers) is { } given)
                properties["customHeaders"] = given.Count == 1 && given.ContainsKey("{}") ? new JsonObject() : given;
            if (context.Get(status) is { } statusValue) properties["status"] = statusValue;
            if (context.Get(scope) is { } scopeValue) properties["scope"] = scopeValue;
            var body = new JsonObject { ["properties"] = properties };
            if (RegistryCommands.TagsValue(context, tags) is { } tagValues) body["tags"] = tagValues;
            var updated = await context.Management.SendAsync(HttpMethod.Patch, await named.PathAsync(context), ManagementClient.RegistryApiVersion, body);
            context.Emit(ArmShapes.Webhook(updated), ArmShapes.WebhookTable);
        });
    }

    private static Command Show(CommandBuilder builder)
    {
        var named = new Named();
        return builder.Leaf("show", "Get the details of a webhook.", named.With(), async context =>
        {
            var webhook = await context.Management.SendAsync(HttpMethod.Get, await named.PathAsync(context), ManagementClient.RegistryApiVersion);
            context.Emit(ArmShapes.Webhook(webhook), ArmShapes.WebhookTable);
        });
    }

    private static Command List(CommandBuilder builder)
    {
        var registry = RegistryOption();
        var group = RegistryCommands.ResourceGroup();
        return builder.Leaf("list", "List all of the webhooks for an Azure Container Registry.", [registry, group], async context =>
        {
            var path = await RegistryCommands.RegistryPathAsync(context, registry, group);
            var items = await RegistryCommands.ListAllAsync(context, $"{path}/webhooks", ManagementClient.RegistryApiVersion);
            context.Emit(new JsonArray(items.Select(i => (JsonNode)ArmShapes.Webhook(i)).ToArray()), ArmShapes.WebhookTable);
        });
    }

    private static Command Delete(CommandBuilder builder)
    {
        var named = new Named();
        return builder.Leaf("delete", "Delete a webhook from an Azure Container Registry.", named.With(), async context =>
        {
            await context.Management.SendAsync(HttpMethod.Delete, await named.PathAsync(context), ManagementClient.RegistryApiVersion);
            context.Emit(null);
        });
    }

    private static Command GetConfig(CommandBuilder builder)
    {
        var named = new Named();
        return builder.Leaf("get-config", "Get the service URI and custom headers for the webhook.", named.With(), async context =>
        {
            var config = await context.Management.SendAsync(HttpMethod.Post, await named.PathAsync(context) + "/getCallbackConfig", ManagementClient.RegistryApiVersion);
            context.Emit(config, ArmShapes.WebhookConfigTable);
        });
    }

    private static Command ListEvents(CommandBuilder builder)
    {
        var named = new Named();
        return builder.Leaf("list-events", "List recent events for a webhook.", named.With(), async context =>
        {
            var events = await RegistryCommands.ListAllAsync(context, await named.PathAsync(context) + "/listEvents", ManagementClient.RegistryApiVersion, HttpMethod.Post);
            context.Emit(new JsonArray(events.ToArray()), ArmShapes.WebhookEventTable);
        });
    }

    private static Command Ping(CommandBuilder builder)
    {
        var named = new Named();
        return builder.Leaf("ping", "Trigger a ping event for a webhook.", named.With(), async context =>
        {
            var ping = await context.Management.SendAsync(HttpMethod.Post, await named.PathAsync(context) + "/ping", ManagementClient.RegistryApiVersion);
            context.Emit(ping, TableLayout.Of(("ID", "id")));
        });
    }
}
