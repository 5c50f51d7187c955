using static Berth.Cli.Commands.CommandBuilder;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth acr repository ...</c>: the data plane, <c>/v2/_catalog</c> and ACR's <c>/acr/v1</c> API (reference §5).
/// Where a server lacks an <c>/acr/v1</c> route (a 404 or 405 without a registry error body), show-tags falls back to
/// <c>/v2/&lt;repo&gt;/tags/list</c> and untag to <c>DELETE /v2/&lt;repo&gt;/manifests/&lt;tag&gt;</c>, as az does for Classic registries.
/// </summary>
public static class RepositoryCommands
{
    private const int PageSize = 100;

    public static Command Build(CommandBuilder builder) => builder.Group("repository", "Manage repositories (image names) for Azure Container Registries.",
        List(builder), Show(builder), ShowTags(builder), ShowManifests(builder), Update(builder), Delete(builder), Untag(builder), ListDeleted(builder));

    private static Command ListDeleted(CommandBuilder builder)
    {
        var common = CommonOptions();
        return builder.Leaf("list-deleted", "List soft-deleted repositories in an Azure Container Registry.", common.All, async context =>
        {
            var client = await common.ClientAsync(context);
            var names = await PagedAsync(context, client, $"/acr/v1/_deleted/_catalog?n={PageSize}", "registry:deleted_catalog:*", "repositories", null);
            context.Emit(new JsonArray(names.ToArray()));
        });
    }

    internal sealed record Common(Option<string> Name, Option<string?> Username, Option<string?> Password, Option<string?> Suffix)
    {
        public Option[] All => [Name, Username, Password, Suffix];

        public async Task<RegistryClient> ClientAsync(CommandContext context)
        {
            var username = context.Get(Username);
            var password = context.Get(Password);
            if (username is not null && password is null)
            {
                throw CliException.Usage("usage error: --password/-p is required with --username/-u.");
            }
            var target = await RegistryTarget.ResolveAsync(context, context.Get(Name)!, username is not null, context.Get(Suffix));
            return new RegistryClient(context, target, username, password);
        }
    }

    internal static Common CommonOptions(Option<string>? registry = null) => new(
        registry ?? Required("--name", "The name of the container registry (or its login server, or host:port).", "-n"),
        Optional("--username", "The username used to log into a container registry (admin user or token).", "-u"),
        Optional("--password", "The password used to log into a container registry.", "-p"),
        Optional("--suffix", "The tenant suffix in the registry login server; used only when the management API cannot be asked."));

    /// <summary>The options of show-tags and show-manifests, which page through one repository's tags or manifests.</summary>
    private sealed record Listing(Common Common, Option<string> Repository, Option<int?> Top, Option<string?> OrderBy, Option<bool> Detail)
    {
        public Listing() : this(
            CommonOptions(),
            Required("--repository", "The name of the repository."),
            new Option<int?>("--top") { Description = "Limit the number of items in the results." },
            Choice("--orderby", "Order the items in the results.", ["time_asc", "time_desc"]),
            Flag("--detail", "Show detailed information."))
        {
        }

        public Option[] All => [.. Common.All, Repository, Top, OrderBy, Detail];

        /// <summary>The repository, a client for it, ACR's order name and the first page of <c>/acr/v1/&lt;repo&gt;/&lt;collection&gt;</c>.</summary>
        public async Task<(string Repository, RegistryClient Client, string? Order, string FirstPage)> StartAsync(CommandContext context, string collection)
        {
            var repo = context.Get(Repository)!;
            var client = await Common.ClientAsync(context);
            var order = RepositoryCommands.OrderBy(context.Get(OrderBy));
            return (repo, client, order, $"/acr/v1/{repo}/{collection}?n={PageSize}{(order is null ? "" : $"&orderby={order}")}");
        }
    }

    private static Command List(CommandBuilder builder)
    {
        var common = CommonOptions();
        var top = new Option<int?>("--top") { Description = "Limit the number of items in the results." };
        return builder.Leaf("list", "List repositories in an Azure Container Registry.", [.. common.All, top], async context =>
        {
            var client = await common.ClientAsync(context);
            var names = await PagedAsync(context, client, $"/v2/_catalog?n={PageSize}", "registry:catalog:*", "repositories", context.Get(top));
            context.Emit(new JsonArray(names.ToArray()));
        });
    }

    private static Command Show(CommandBuilder builder)
    {
        var common = CommonOptions();
        var repository = Optional("--repository", "The name of the repository.");
        var image = Optional("--image", "The name of the image: 'repository:tag' or 'repository@digest'.", "-t");
        return builder.Leaf("show", "Get the attributes of a repository or image in an Azure Container Registry.", [.. common.All, repository, image], async context =>
        {
            var (repo, tag, digest) = RepositoryOrImage(context, repository, image);
            var client = await common.ClientAsync(context);
            var path = digest is not null ? $"/acr/v1/{repo}/_manifests/{digest}" : tag is not null ? $"/acr/v1/{repo}/_tags/{Uri.EscapeDataString(tag)}" : $"/acr/v1/{repo}";
            var (body, response) = await client.SendJsonAsync(HttpMethod.Get, path, $"repository:{repo}:metadata_read");
            response.Dispose();
            // az prints the repository attributes, or the "tag" / "manifest" object of an image.
            context.Emit(digest is not null ? body?["manifest"] ?? body : tag is not null ? body?["tag"] ?? body : body);
        });
    }

    private static Command ShowTags(CommandBuilder builder)
    {
        var listing = new Listing();
        return builder.Leaf("show-tags", "Show tags for a repository in an Azure Container Registry.", listing.All, async context =>
        {
            var (repo, client, order, query) = await listing.StartAsync(context, "_tags");
            var scope = $"repository:{repo}:metadata_read";
            List<JsonNode?> tags;
            try
            {
                tags = await PagedAsync(context, client, query, scope, "tags", context.Get(listing.Top));
            }
            catch (MissingRouteException)
            {
                if (context.Get(listing.Detail) || order is not null)
                {
                    throw new CliException("This registry does not serve /acr/v1/<repository>/_tags, which --detail and --orderby need.");
                }
                tags = await PagedAsync(context, client, $"/v2/{repo}/tags/list?n={PageSize}", scope, "tags", context.Get(listing.Top));
                context.Emit(new JsonArray(tags.Select(t => t?.DeepClone()).ToArray()));
                return;
            }
            context.Emit(context.Get(listing.Detail)
                ? new JsonArray(tags.Select(t => t?.DeepClone()).ToArray())
                : new JsonArray(tags.Select(t => (JsonNode?)JsonValue.Create(ResultWriter.Scalar(t?["name"]))).ToArray()));
        });
    }

    private static Command ShowManifests(CommandBuilder builder)
    {
        var listing = new Listing();
        return builder.Leaf("show-manifests", "Show manifests of a repository in an Azure Container Registry.", listing.All, async context =>
        {
            var (repo, client, _, query) = await listing.StartAsync(context, "_manifests");
            List<JsonNode?> manifests;
            try
            {
                manifests = await PagedAsync(context, client, query, $"repository:{repo}:metadata_read", "manifests", context.Get(listing.Top));
            }
            catch (MissingRouteException)
            {
                throw new CliException("This registry does not serve /acr/v1/<repository>/_manifests.");
            }
            // Without --detail az keeps digest, tags and the last update time (as "timestamp").
            context.Emit(new JsonArray(manifests.Select(m => context.Get(listing.Detail)
                ? m?.DeepClone()
                : new JsonObject
                {
                    ["digest"] = m?["digest"]?.DeepClone(),
                    ["tags"] = m?["tags"]?.DeepClone() ?? new JsonArray(),
                    ["timestamp"] = (m?["lastUpdateTime"] ?? m?["createdTime"])?.DeepClone(),
                }).ToArray()));
        });
    }

    private static Command Update(CommandBuilder builder)
    {
        var common = CommonOptions();
        var repository = Optional("--repository", "The name of the repository.");
        var image = Optional("--image", "The name of the image: 'repository:tag' or 'repository@digest'.", "-t");
        var deleteEnabled = ThreeState("--delete-enabled", "Whether delete is allowed.");
        var writeEnabled = ThreeState("--write-enabled", "Whether write is allowed.");
        var readEnabled = ThreeState("--read-enabled", "Whether read is allowed.");
        var listEnabled = ThreeState("--list-enabled", "Whether listing is allowed.");
        return builder.Leaf("update", "Update the attributes of a repository or image.", [.. common.All, repository, image, deleteEnabled, writeEnabled, readEnabled, listEnabled], async context =>
        {
            var (repo, tag, digest) = RepositoryOrImage(context, repository, image);
            var attributes = new JsonObject();
            foreach (var (option, key) in new[] { (deleteEnabled, "deleteEnabled"), (writeEnabled, "writeEnabled"), (readEnabled, "readEnabled"), (listEnabled, "listEnabled") })
            {
                if (context.Get(option) is { } value)
                {
                    attributes[key] = value;
                }
            }
            if (attributes.Count == 0)
            {
                throw CliException.Usage("usage error: give at least one of --delete-enabled, --write-enabled, --read-enabled, --list-enabled.");
            }
            var client = await common.ClientAsync(context);
            var path = digest is not null ? $"/acr/v1/{repo}/_manifests/{digest}" : tag is not null ? $"/acr/v1/{repo}/_tags/{Uri.EscapeDataString(tag)}" : $"/acr/v1/{repo}";
            var (body, response) = await client.SendJsonAsync(HttpMethod.Patch, path, $"repository:{repo}:metadata_read,metadata_write", attributes);
            response.Dispose();
            context.Emit(digest is not null ? body?["manifest"] ?? body : tag is not null ? body?["tag"] ?? body : body);
        });
    }

    private static Command Delete(CommandBuilder builder)
    {
        var common = CommonOptions();
        var repository = Optional("--repository", "The name of the repository to delete.");
        var image = Optional("--image", "The image to delete: 'repository:tag' (deletes the manifest and every tag on it) or 'repository@digest'.", "-t");
        var yes = Flag("--yes", "Do not prompt for confirmation.", "-y");
        return builder.Leaf("delete", "Delete a repository or image in an Azure Container Registry.", [.. common.All, repository, image, yes], async context =>
        {
            var (repo, tag, digest) = RepositoryOrImage(context, repository, image);
            var client = await common.ClientAsync(context);
            var scope = $"repository:{repo}:delete,metadata_read";
            if (tag is null && digest is null)
            {
                context.Confirm(context.Get(yes), $"This operation will delete the repository '{repo}' and all the container images in it.");
                var (body, response) = await client.SendJsonAsync(HttpMethod.Delete, $"/acr/v1/{repo}", scope);
                response.Dispose();
                context.Emit(body is JsonObject { Count: > 0 } ? body : null);
                return;
            }
            if (digest is null)
            {
                var (tagBody, tagResponse) = await client.SendJsonAsync(HttpMethod.Get, $"/acr/v1/{repo}/_tags/{Uri.EscapeDataString(tag!)}", scope);
                tagResponse.Dispose();
                digest = ResultWriter.Scalar(tagBody?["tag"]?["digest"] ?? tagBody?["digest"]);
                if (digest.Length == 0)
                {
                    throw new CliException($"The tag '{repo}:{tag}' has no digest.");
                }
            }
            context.Confirm(context.Get(yes), $"This operation will delete the manifest '{digest}' and all the following images: '{repo}{(tag is null ? "@" + digest : ":" + tag)}'.");
            var (_, deleteResponse) = await client.SendJsonAsync(HttpMethod.Delete, $"/v2/{repo}/manifests/{digest}", scope);
            deleteResponse.Dispose();
            context.Emit(null);
        });
    }

    private static Command Untag(CommandBuilder builder)
    {
        var common = CommonOptions();
        var image = Required("--image", "The name of the image: 'repository:tag'.", "-t");
        return builder.Leaf("untag", "Untag an image in an Azure Container Registry; the manifest stays.", [.. common.All, image], async context =>
        {
            var (repo, tag, digest) = ParseImage(context.Get(image)!);
            if (digest is not null)
            {
                throw CliException.Usage("usage error: --image must be 'repository:tag'; untag does not take a digest.");
            }
            var client = await common.ClientAsync(context);
            var scope = $"repository:{repo}:delete";
            using var response = await client.SendAsync(HttpMethod.Delete, $"/acr/v1/{repo}/_tags/{Uri.EscapeDataString(tag!)}", scope);
            var body = await Management.ManagementClient.ReadJsonAsync(response);
            if (RegistryClient.IsMissingRoute(response.StatusCode, body))
            {
                // Distribution 1.1 deletes a tag by DELETE on the manifest reference.
                var (_, fallback) = await client.SendJsonAsync(HttpMethod.Delete, $"/v2/{repo}/manifests/{Uri.EscapeDataString(tag!)}", scope);
                fallback.Dispose();
            }
            else if (!response.IsSuccessStatusCode)
            {
                throw RegistryClient.DataPlaneError(response.StatusCode, body);
            }
            context.Emit(null);
        });
    }

    internal sealed class MissingRouteException : Exception;

    /// <summary>Follows Link rel="next" pages, collecting the array in <paramref name="field"/>, up to <paramref name="top"/> items.</summary>
    internal static async Task<List<JsonNode?>> PagedAsync(CommandContext context, RegistryClient client, string first, string scope, string field, int? top)
    {
        var items = new List<JsonNode?>();
        string? next = first;
        var pages = 0;
        while (next is not null && pages++ < 10_000 && (top is null || items.Count < top))
        {
            using var response = await client.SendAsync(HttpMethod.Get, next, scope);
            var body = await Management.ManagementClient.ReadJsonAsync(response);
            if (!response.IsSuccessStatusCode)
            {
                if (pages == 1 && next.StartsWith("/acr/v1/", StringComparison.Ordinal) && RegistryClient.IsMissingRoute(response.StatusCode, body))
                {
                    throw new MissingRouteException();
                }
                throw RegistryClient.DataPlaneError(response.StatusCode, body);
            }
            items.AddRange(((body?[field] as JsonArray) ?? []).Select(i => i?.DeepClone()));
            next = RegistryClient.NextLink(response);
        }
        return top is { } limit ? items.Take(limit).ToList() : items;
    }

    private static string? OrderBy(string? value) => value switch
    {
        "time_asc" => "timeasc",
        "time_desc" => "timedesc",
        _ => null,
    };

    private static (string Repository, string? Tag, string? Digest) RepositoryOrImage(CommandContext context, Option<string?> repository, Option<string?> image)
    {
        var repo = context.Get(repository);
        var img = context.Get(image);
        if ((repo is null) == (img is null))
        {
            throw CliException.Usage("usage error: give exactly one of --repository or --image.");
        }
        return repo is not null ? (repo, null, null) : ParseImage(img!);
    }

    /// <summary>'repo:tag', 'repo@digest' or 'repo' (meaning 'repo:latest', as in az).</summary>
    public static (string Repository, string? Tag, string? Digest) ParseImage(string image)
    {
        var at = image.IndexOf('@');
        if (at > 0)
        {
            return (image[..at], null, image[(at + 1)..]);
        }
        var colon = image.LastIndexOf(':');
        if (colon > image.LastIndexOf('/') && colon > 0)
        {
            return (image[..colon], image[(colon + 1)..], null);
        }
        return (image, "latest", null);
    }
}
