using static Berth.Cli.Commands.CommandBuilder;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth acr import</c>, as az 2.45's <c>acr import</c> (azure-cli <c>acr/import.py</c>): it works out the source the
/// same way (a registry of the subscription by name, login server or resource id; otherwise the login server in
/// <c>--source</c>, which needs a dot), sends the same <c>importImage</c> body, and waits for the long-running operation
/// unless <c>--no-wait</c>. Like az it prints nothing when the import succeeds.
/// </summary>
public static class ImportCommands
{
    public static Command Build(CommandBuilder builder)
    {
        var named = new RegistryCommands.NamedRegistry();
        var source = Required("--source", "Source image name or fully qualified source containing the registry login server. If --registry is used, --source is always a source image, even if it contains the login server.");
        var registry = Optional("--registry", "The source container registry: a name, login server or resource ID of a registry of this server.", "-r");
        var username = Optional("--username", "The username of the source container registry.", "-u");
        var password = Optional("--password", "The password of the source container registry.", "-p");
        var images = new Option<string[]>("--image", "-t")
        {
            Description = "The name and tag of the image using the format: '-t repo/image:tag'. Multiple tags are supported by passing -t multiple times.",
            Arity = ArgumentArity.OneOrMore,
        };
        var repositories = new Option<string[]>("--repository")
        {
            Description = "The repository name for a manifest-only copy of images. Multiple copies supported by passing --repository multiple times.",
            Arity = ArgumentArity.OneOrMore,
        };
        var force = Flag("--force", "Overwrite the existing tag of the image to be imported.");
        var noWait = Flag("--no-wait", "Do not wait for the import to complete and return immediately after queuing the import.");
        return builder.Leaf("import", "Imports an image to an Azure Container Registry from another Container Registry. Import removes the need to docker pull, docker tag, docker push.",
            named.With([source, registry, username, password, images, repositories, force, noWait]),
            async context =>
            {
                if (context.Get(username) is not null && context.Get(password) is null)
                    throw new CliException("Authentication failed. Please provide password.");
                var path = await named.PathAsync(context);
                await context.Management.SendAsync(HttpMethod.Get, path, ManagementClient.RegistryApiVersion);

                var sourceImage = context.Get(source)!;
                var importSource = new JsonObject();
                if (context.Get(registry) is { } sourceRegistry)
                {
                    if (sourceRegistry.StartsWith("/subscriptions/", StringComparison.OrdinalIgnoreCase))
                    {
                        importSource["resourceId"] = sourceRegistry;
                    }
                    else
                    {
                        var found = await FindRegistryAsync(context, sourceRegistry, sourceRegistry)
                            ?? throw new CliException("The source container registry can not be found in the current subscription. Please provide a valid address and/or credentials.");
                        var prefix = ServerLocator.FirstString(found["properties"], "loginServer") + "/";
                        if (sourceImage.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                        {
                            context.Warn($"The login server name of \"{prefix[..^1]}\" in the \"--source\" argument will be ignored as \"--registry\" already supplies the same information");
                            sourceImage = sourceImage[prefix.Length..];
                        }
                        importSource["resourceId"] = ServerLocator.FirstString(found, "id");
                    }
                }
                else
                {
                    var slash = sourceImage.IndexOf('/');
                    if (slash <= 0)
                        throw new CliException("Source cannot be found. Please provide a valid image and source registry or a fully qualified source.");
                    var registryUri = sourceImage[..slash];
                    if (!registryUri.Contains('.'))
                        throw new CliException("Login server of the registry is not valid because it is not a fully qualified domain name.");
                    sourceImage = sourceImage[(slash + 1)..];
                    if (context.Get(password) is { } secret)
                    {
                        importSource["registryUri"] = registryUri;
                        importSource["credentials"] = new JsonObject { ["username"] = context.Get(username), ["password"] = secret };
                    }
                    else if (await FindRegistryAsync(context, registryUri, null) is { } local)
                    {
                        importSource["resourceId"] = ServerLocator.FirstString(local, "id");
                    }
                    else
                    {
                        importSource["registryUri"] = registryUri;
                    }
                }
                importSource["sourceImage"] = sourceImage;

                var targetTags = context.Get(images) ?? [];
                var untagged = context.Get(repositories) ?? [];
                if (targetTags.Length == 0 && untagged.Length == 0)
                {
                    var at = sourceImage.IndexOf('@');
                    targetTags = [at > 0 ? sourceImage[..at] : sourceImage];
                }
                var body = new JsonObject
                {
                    ["source"] = importSource,
                    ["targetTags"] = new JsonArray(targetTags.Select(t => (JsonNode?)t).ToArray()),
                    ["untaggedTargetRepositories"] = untagged.Length == 0 ? null : new JsonArray(untagged.Select(r => (JsonNode?)r).ToArray()),
                    ["mode"] = context.Get(force) ? "Force" : "NoForce",
                };
                if (context.Get(noWait)) context.Warn("Import has started. Due to no-wait option, failures will not be reflected.");
                await context.Management.SendLongRunningAsync(HttpMethod.Post, $"{path}/importImage", ManagementClient.RegistryApiVersion, body, wait: !context.Get(noWait));
            });
    }

    /// <summary>az's lookup: the one registry of the subscription whose login server (or, with a name, whose name) matches.</summary>
    private static async Task<JsonObject?> FindRegistryAsync(CommandContext context, string loginServer, string? name)
    {
        var management = context.Management;
        var list = await management.SendAsync(HttpMethod.Get,
            $"subscriptions/{await management.GetSubscriptionIdAsync()}/providers/{ManagementClient.RegistryType}", ManagementClient.RegistryApiVersion);
        var matches = (list?["value"] as JsonArray)?.OfType<JsonObject>().Where(r =>
            string.Equals(ServerLocator.FirstString(r["properties"], "loginServer"), loginServer, StringComparison.OrdinalIgnoreCase)
            || (name is not null && string.Equals(ServerLocator.FirstString(r, "name"), name, StringComparison.OrdinalIgnoreCase))).ToList() ?? [];
        if (matches.Count > 1) context.Warn($"More than one registries were found by {loginServer}.");
        return matches.Count == 1 ? matches[0] : null;
    }
}
