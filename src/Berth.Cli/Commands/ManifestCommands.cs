using System.Globalization;
using static Berth.Cli.Commands.CommandBuilder;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth acr manifest ...</c>: az's manifest commands over the data plane (<c>/v2/&lt;repo&gt;/manifests</c>,
/// <c>/v2/&lt;repo&gt;/referrers</c>, <c>/acr/v1/&lt;repo&gt;/_manifests</c>, <c>/acr/v1/_deleted/...</c>), with az's
/// <c>-r/--registry</c> and <c>-n/--name</c>. The positional fully qualified form az also takes is not offered: it needs a
/// login server without a port, which a local Berth rarely has.
/// </summary>
public static class ManifestCommands
{
    private const int PageSize = 100;

    public static Command Build(CommandBuilder builder) => builder.Group("manifest", "Manage artifact manifests in Azure Container Registries.",
        List(builder), ListMetadata(builder), Show(builder), ShowMetadata(builder), UpdateMetadata(builder), Delete(builder), ListReferrers(builder),
        ListDeleted(builder), ListDeletedTags(builder), Restore(builder));

    private static RepositoryCommands.Common Registry() =>
        RepositoryCommands.CommonOptions(Required("--registry", "The name of the container registry (or its login server, or host:port).", "-r"));

    private static Option<string> RepositoryName() => Required("--name", "The name of the repository.", "-n");

    private static Option<string> ManifestName() => Required("--name", "The manifest: 'repository:tag' or 'repository@digest'.", "-n");

    private static Command List(CommandBuilder builder)
    {
        var (common, repository, top, orderBy) = (Registry(), RepositoryName(), Top(), OrderBy());
        return builder.Leaf("list", "List the manifests in a repository.", [.. common.All, repository, top, orderBy], async context =>
        {
            var repo = context.Get(repository)!;
            var client = await common.ClientAsync(context);
            var scope = $"repository:{repo}:pull,metadata_read";
            var listed = await RepositoryCommands.PagedAsync(context, client, ManifestsPage(repo, context.Get(orderBy)), scope, "manifests", context.Get(top));
            var manifests = new JsonArray();
            foreach (var digest in listed.Select(m => ResultWriter.Scalar(m?["digest"])))
                manifests.Add(JsonNode.Parse((await GetManifestAsync(client, repo, digest, scope)).Text));
            context.Emit(manifests);
        });
    }

    private static Command ListMetadata(CommandBuilder builder)
    {
        var (common, repository, top, orderBy) = (Registry(), RepositoryName(), Top(), OrderBy());
        return builder.Leaf("list-metadata", "List the metadata of the manifests in a repository.", [.. common.All, repository, top, orderBy], async context =>
        {
            var repo = context.Get(repository)!;
            var client = await common.ClientAsync(context);
            var listed = await RepositoryCommands.PagedAsync(context, client, ManifestsPage(repo, context.Get(orderBy)), $"repository:{repo}:metadata_read", "manifests", context.Get(top));
            context.Emit(new JsonArray(listed.ToArray()));
        });
    }

    private static Command Show(CommandBuilder builder)
    {
        var (common, name) = (Registry(), ManifestName());
        var raw = Flag("--raw", "Output the raw manifest text with no formatting.");
        return builder.Leaf("show", "Get a manifest.", [.. common.All, name, raw], async context =>
        {
            var (repo, tag, digest) = RepositoryCommands.ParseImage(context.Get(name)!);
            var client = await common.ClientAsync(context);
            var (text, _) = await GetManifestAsync(client, repo, digest ?? tag!, $"repository:{repo}:pull");
            if (context.Get(raw))
            {
                // The exact bytes, so that the output hashes to the digest.
                context.Environment.Out.Write(text);
                context.Environment.Out.Flush();
                return;
            }
            context.Emit(JsonNode.Parse(text));
        });
    }

    private static Command ShowMetadata(CommandBuilder builder)
    {
        var (common, name) = (Registry(), ManifestName());
        return builder.Leaf("show-metadata", "Get the metadata of a manifest or tag.", [.. common.All, name], async context =>
        {
            var (repo, tag, digest) = RepositoryCommands.ParseImage(context.Get(name)!);
            var client = await common.ClientAsync(context);
            var (body, response) = await client.SendJsonAsync(HttpMethod.Get, MetadataPath(repo, tag, digest), $"repository:{repo}:metadata_read");
            response.Dispose();
            context.Emit(Inner(body, digest));
        });
    }

    private static Command UpdateMetadata(CommandBuilder builder)
    {
        var (common, name) = (Registry(), ManifestName());
        var flags = new[]
        {
            (Option: ThreeState("--delete-enabled", "Whether delete is allowed."), Key: "deleteEnabled"),
            (Option: ThreeState("--write-enabled", "Whether write is allowed."), Key: "writeEnabled"),
            (Option: ThreeState("--read-enabled", "Whether read is allowed."), Key: "readEnabled"),
            (Option: ThreeState("--list-enabled", "Whether listing is allowed."), Key: "listEnabled"),
        };
        return builder.Leaf("update-metadata", "Update the changeable attributes of a manifest or tag.", [.. common.All, name, .. flags.Select(f => f.Option)], async context =>
        {
            var (repo, tag, digest) = RepositoryCommands.ParseImage(context.Get(name)!);
            var attributes = new JsonObject();
            foreach (var (option, key) in flags)
                if (context.Get(option) is { } value) attributes[key] = value;
            var client = await common.ClientAsync(context);
            // As az: without a change it only shows the metadata.
            var (body, response) = attributes.Count == 0
                ? await client.SendJsonAsync(HttpMethod.Get, MetadataPath(repo, tag, digest), $"repository:{repo}:metadata_read")
                : await client.SendJsonAsync(HttpMethod.Patch, MetadataPath(repo, tag, digest), $"repository:{repo}:metadata_write,metadata_read", attributes);
            response.Dispose();
            context.Emit(Inner(body, digest));
        });
    }

    private static Command Delete(CommandBuilder builder)
    {
        var (common, name) = (Registry(), ManifestName());
        var yes = Flag("--yes", "Do not prompt for confirmation.", "-y");
        return builder.Leaf("delete", "Delete a manifest and every tag on it.", [.. common.All, name, yes], async context =>
        {
            var (repo, tag, digest) = RepositoryCommands.ParseImage(context.Get(name)!);
            var client = await common.ClientAsync(context);
            digest ??= (await GetManifestAsync(client, repo, tag!, $"repository:{repo}:pull")).Digest;
            context.Confirm(context.Get(yes), $"Are you sure you want to delete the artifact '{digest}' and all manifests that refer to it?");
            var (_, response) = await client.SendJsonAsync(HttpMethod.Delete, $"/v2/{repo}/manifests/{digest}", $"repository:{repo}:delete");
            response.Dispose();
            context.Emit(null);
        });
    }

    private static Command ListReferrers(CommandBuilder builder)
    {
        var (common, name) = (Registry(), ManifestName());
        var artifactType = Optional("--artifact-type", "List only the referrers of this artifact type.");
        var recursive = Flag("--recursive", "Also list the referrers of the referrers.");
        return builder.Leaf("list-referrers", "List the artifacts that refer to a manifest.", [.. common.All, name, artifactType, recursive], async context =>
        {
            var (repo, tag, digest) = RepositoryCommands.ParseImage(context.Get(name)!);
            var client = await common.ClientAsync(context);
            var scope = $"repository:{repo}:pull";
            digest ??= (await GetManifestAsync(client, repo, tag!, scope)).Digest;
            var type = context.Get(artifactType);
            var query = type is null ? "" : "?artifactType=" + Uri.EscapeDataString(type);
            var referrers = await RepositoryCommands.PagedAsync(context, client, $"/v2/{repo}/referrers/{digest}{query}", scope, "manifests", null);
            if (context.Get(recursive))
            {
                foreach (var child in referrers.Select(r => ResultWriter.Scalar(r?["digest"])).ToList())
                    referrers.AddRange(await RepositoryCommands.PagedAsync(context, client, $"/v2/{repo}/referrers/{child}", scope, "manifests", null));
            }
            context.Emit(new JsonObject { ["manifests"] = new JsonArray(referrers.ToArray()) });
        });
    }

    private static Command ListDeleted(CommandBuilder builder)
    {
        var (common, repository) = (Registry(), RepositoryName());
        return builder.Leaf("list-deleted", "List the soft-deleted manifests of a repository.", [.. common.All, repository], async context =>
        {
            var repo = context.Get(repository)!;
            var client = await common.ClientAsync(context);
            var manifests = await RepositoryCommands.PagedAsync(context, client, $"/acr/v1/_deleted/{repo}/_manifests?n={PageSize}", $"repository:{repo}:deleted_read", "manifests", null);
            await AddExpiryAsync(context, client, manifests);
            context.Emit(new JsonArray(manifests.ToArray()));
        });
    }

    private static Command ListDeletedTags(CommandBuilder builder)
    {
        var common = Registry();
        var name = Required("--name", "The repository, or 'repository:tag' for one tag's deletions.", "-n");
        return builder.Leaf("list-deleted-tags", "List the soft-deleted tags of a repository.", [.. common.All, name], async context =>
        {
            var (repo, tag) = RepositoryAndOptionalTag(context.Get(name)!);
            var client = await common.ClientAsync(context);
            var tags = await DeletedTagsAsync(context, client, repo);
            if (tag is not null) tags = tags.Where(t => ResultWriter.Scalar(t?["tag"]) == tag).ToList();
            await AddExpiryAsync(context, client, tags);
            context.Emit(new JsonArray(tags.ToArray()));
        });
    }

    private static Command Restore(CommandBuilder builder)
    {
        var common = Registry();
        var name = Required("--name", "The tag to restore: 'repository:tag'.", "-n");
        var digest = Optional("--digest", "The digest of the manifest to restore; by default the one most recently deleted under the tag.", "-d");
        var force = Flag("--force", "Move the tag to the restored manifest even if it now points at another one.", "-f");
        var yes = Flag("--yes", "Do not prompt for confirmation.", "-y");
        return builder.Leaf("restore", "Restore a soft-deleted manifest and tag.", [.. common.All, name, digest, force, yes], async context =>
        {
            var (repo, tag) = RepositoryAndOptionalTag(context.Get(name)!);
            if (tag is null) throw CliException.Usage("usage error: --name must be 'repository:tag'.");
            var client = await common.ClientAsync(context);
            var chosen = context.Get(digest);
            if (chosen is null)
            {
                var candidates = (await DeletedTagsAsync(context, client, repo)).Where(t => ResultWriter.Scalar(t?["tag"]) == tag)
                    .Select(t => ResultWriter.Scalar(t?["digest"])).ToList();
                if (candidates.Count == 0) throw new CliException($"No deleted manifests found for tag: {tag}");
                chosen = candidates[^1];
                if (candidates.Count > 1)
                    context.Confirm(context.Get(yes), $"Multiple deleted manifests found for tag: {tag}. Restoring most recently deleted manifest with digest: {chosen}. Is this okay?");
            }
            var path = $"/acr/v1/_deleted/{repo}/_manifests/{chosen}?force={(context.Get(force) ? "True" : "False")}";
            var (body, response) = await client.SendJsonAsync(HttpMethod.Post, path, $"repository:{repo}:deleted_read,deleted_restore", new JsonObject { ["tag"] = tag });
            response.Dispose();
            context.Emit(body);
        });
    }

    private static Task<List<JsonNode?>> DeletedTagsAsync(CommandContext context, RegistryClient client, string repo) =>
        RepositoryCommands.PagedAsync(context, client, $"/acr/v1/_deleted/{repo}/_tags?n={PageSize}", $"repository:{repo}:deleted_read", "tags", null);

    /// <summary>As az: <c>expiresAfter</c> is <c>deletedAt</c> plus the registry's soft-delete retention, read from the management plane.</summary>
    private static async Task AddExpiryAsync(CommandContext context, RegistryClient client, List<JsonNode?> items)
    {
        if (items.Count == 0 || client.Target is not { ManagementAvailable: true, RegistryName: { } registry }) return;
        var resource = await context.Management.SendAsync(HttpMethod.Get, await context.Management.RegistryPathAsync(registry, null), ManagementClient.RegistryApiVersion);
        if (resource?["properties"]?["policies"]?["softDeletePolicy"]?["retentionDays"] is not JsonValue value || !value.TryGetValue<int>(out var days)) return;
        foreach (var item in items.OfType<JsonObject>())
        {
            if (DateTimeOffset.TryParse(ResultWriter.Scalar(item["deletedAt"]), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var deletedAt))
                item["expiresAfter"] = deletedAt.AddDays(days).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
        }
    }

    /// <summary>A manifest by tag or digest: its exact text and its digest.</summary>
    private static async Task<(string Text, string Digest)> GetManifestAsync(RegistryClient client, string repo, string reference, string scope)
    {
        using var response = await client.SendAsync(HttpMethod.Get, $"/v2/{repo}/manifests/{reference}", scope, accept: RegistryClient.ManifestMediaTypes);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw RegistryClient.DataPlaneError(response.StatusCode, TryParse(text));
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.First() : reference;
        return (text, digest);
    }

    private static JsonNode? TryParse(string text)
    {
        try { return JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    private static string MetadataPath(string repo, string? tag, string? digest) =>
        digest is not null ? $"/acr/v1/{repo}/_manifests/{digest}" : $"/acr/v1/{repo}/_tags/{Uri.EscapeDataString(tag!)}";

    /// <summary>az prints the "manifest" or "tag" object of the answer.</summary>
    private static JsonNode? Inner(JsonNode? body, string? digest) => (digest is not null ? body?["manifest"] : body?["tag"]) ?? body;

    private static string ManifestsPage(string repo, string? orderBy) =>
        $"/acr/v1/{repo}/_manifests?n={PageSize}{orderBy switch { "time_asc" => "&orderby=timeasc", "time_desc" => "&orderby=timedesc", _ => "" }}";

    private static Option<int?> Top() => new("--top") { Description = "Limit the number of items in the results." };

    private static Option<string?> OrderBy() => Choice("--orderby", "Order the items in the results.", ["time_asc", "time_desc"]);

    /// <summary>'repository' or 'repository:tag' (no digest, no default tag).</summary>
    private static (string Repository, string? Tag) RepositoryAndOptionalTag(string value)
    {
        if (value.Contains('@')) throw CliException.Usage("usage error: give 'repository' or 'repository:tag', not a digest.");
        var colon = value.LastIndexOf(':');
        return colon > value.LastIndexOf('/') && colon > 0 ? (value[..colon], value[(colon + 1)..]) : (value, null);
    }
}
