using System.Collections.Concurrent;

namespace Berth.Server.Web;

/// <summary>A repository row of the registry page.</summary>
public sealed record RepositoryRow(string Name, int TagCount, DateTimeOffset LastPush);

/// <summary>What a manifest holds, summed up for a tag row: its kind, its size (config and layers; for an index, its children's) and its platforms.</summary>
public sealed record ContentSummary(string Kind, long Size, IReadOnlyList<string> Platforms);

/// <summary>
/// A page of the tag table: its rows, and the positions its previous link (the tags before <paramref name="Previous"/>)
/// and its next link (those after <paramref name="Next"/>) start from; null where there is no such page.
/// </summary>
public sealed record TagPage(IReadOnlyList<TagRow> Rows, TagPosition? Previous, TagPosition? Next);

public sealed record TagRow(string Tag, Digest Digest, ContentSummary Content, DateTimeOffset Pushed, long Pulls);

/// <summary>An image configuration as the manifest page shows it; environment variables by name only (values often hold secrets).</summary>
public sealed record ImageConfigSummary(
    string? Created, string? Os, string? Architecture, string? Variant, string? User,
    IReadOnlyList<string> Entrypoint, IReadOnlyList<string> Command, IReadOnlyList<string> EnvironmentNames,
    IReadOnlyList<KeyValuePair<string, string>> Labels)
{
    public string Platform => PlatformText(Os, Architecture, Variant);

    public static string PlatformText(string? os, string? architecture, string? variant) =>
        string.Join('/', new[] { os ?? "unknown", architecture ?? "unknown", variant }.Where(part => !string.IsNullOrEmpty(part)));
}

/// <summary>A child of an index, as the manifest page's platform table lists it.</summary>
public sealed record PlatformRow(string Platform, Descriptor Descriptor);

/// <summary>A manifest that refers to another (OCI referrers, or cosign's tag scheme), with the group the page files it under.</summary>
public sealed record ReferrerRow(Digest Digest, string Type, string TypeName, long Size, string? Created);

public sealed record ReferrerGroup(string Key, string Title, IReadOnlyList<ReferrerRow> Referrers);

/// <summary>
/// Reads what the pages show from the stores, after the visitor's rights have been checked. Listings are paged and
/// searched in the metadata store (<see cref="IRepositoryDetailsStore.SearchTagsAsync"/>); what is read from immutable
/// content (a manifest's size and platforms, an image configuration) is kept by digest, since it never changes.
/// </summary>
public sealed class RegistryBrowser(IRepositoryDetailsStore details, IMetadataStore metadata, ManifestService manifests, BlobService blobs)
{
    public const int RepositoriesPerPage = 50;
    public const int TagsPerPage = 50;

    /// <summary>Largest image configuration read; real ones are a few KiB (history included).</summary>
    private const int MaxConfigBytes = 1 << 20;

    private const int CacheCapacity = 20_000;

    private readonly ConcurrentDictionary<(string Registry, string Repository, Digest Digest), ContentSummary> _summaries = new();
    private readonly ConcurrentDictionary<Digest, ImageConfigSummary?> _configs = new();

    /// <summary>
    /// One page of the repositories <paramref name="visitor"/> may pull whose name contains <paramref name="query"/>.
    /// The store searches; the visitor's rights filter before paging, so hidden repositories neither fill nor end a page.
    /// </summary>
    public async Task<(IReadOnlyList<RepositoryRow> Rows, bool HasNext)> ListRepositoriesAsync(WebVisitor visitor, string query, int page, CancellationToken cancellationToken)
    {
        var registry = visitor.Registry.Name;
        var skip = (page - 1) * RepositoriesPerPage;
        var names = new List<string>(RepositoriesPerPage + 1);
        string? last = null;
        const int batchSize = 500;
        while (names.Count <= RepositoriesPerPage)
        {
            var batch = await details.SearchRepositoriesAsync(registry, query, batchSize, last, cancellationToken);
            foreach (var name in batch)
            {
                if (!visitor.MayPull(name)) continue;
                if (skip > 0) { skip--; continue; }
                names.Add(name);
                if (names.Count > RepositoriesPerPage) break;
            }
            if (batch.Count < batchSize) break;
            last = batch[^1];
        }
        var rows = new List<RepositoryRow>(Math.Min(names.Count, RepositoriesPerPage));
        foreach (var name in names.Take(RepositoriesPerPage))
        {
            if (await details.GetRepositoryOrNullAsync(new RepositoryKey(registry, name), cancellationToken) is { } repository)
                rows.Add(new RepositoryRow(name, repository.TagCount, repository.LastUpdateTime));
        }
        return (rows, names.Count > RepositoriesPerPage);
    }

    public Task<RepositoryDetails?> GetRepositoryOrNullAsync(RepositoryKey repository, CancellationToken cancellationToken) =>
        details.GetRepositoryOrNullAsync(repository, cancellationToken);

    /// <summary>
    /// One page of tags, newest push first, with what each one's manifest holds: the newest ones without a cursor, else
    /// those after or before the cursor's position (keyset paging: each page is one short walk of the push-order index,
    /// however deep). One row more than a page tells whether the walk's direction goes on.
    /// </summary>
    public async Task<TagPage> ListTagsAsync(RepositoryKey repository, string query, TagCursor? cursor, CancellationToken cancellationToken)
    {
        var tags = await details.SearchTagsAsync(repository, query, cursor?.Position, cursor?.IsBefore ?? false, TagsPerPage + 1, cancellationToken);
        var more = tags.Count > TagsPerPage;
        IReadOnlyList<TagDetails> shown;
        TagPosition? previous, next;
        if (cursor is null)
            (shown, previous, next) = (tags.Take(TagsPerPage).ToList(), null, more ? Position(tags[TagsPerPage - 1]) : null);
        else if (cursor.IsBefore)
        {
            // Fewer than a page before the cursor means the walk reached the newest tag: that is the first page, shown whole.
            if (!more) return await ListTagsAsync(repository, query, null, cancellationToken);
            shown = tags.Skip(1).ToList();
            (previous, next) = (Position(shown[0]), Position(shown[^1]));
        }
        else
        {
            shown = tags.Take(TagsPerPage).ToList();
            // A page beyond the last is empty; its previous link reaches back to the cursor's tag itself.
            previous = shown.Count > 0 ? Position(shown[0]) : new TagPosition(cursor.Position.Pushed.AddMilliseconds(-1), "");
            next = more ? Position(shown[^1]) : null;
        }
        var rows = new List<TagRow>(shown.Count);
        foreach (var tag in shown)
            rows.Add(new TagRow(tag.Name, tag.Digest, await SummarizeAsync(repository, tag.Digest, cancellationToken), tag.LastUpdateTime, tag.Pulls.Total));
        return new TagPage(rows, previous, next);
    }

    private static TagPosition Position(TagDetails tag) => new(tag.LastUpdateTime, tag.Name);

    /// <summary>The most recently pushed tag, whose manifest the repository page takes its title and description from.</summary>
    public async Task<TagDetails?> GetNewestTagOrNullAsync(RepositoryKey repository, CancellationToken cancellationToken) =>
        (await details.SearchTagsAsync(repository, "", null, false, 1, cancellationToken)).FirstOrDefault();

    public Task<StoredManifest?> GetManifestOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) =>
        metadata.GetManifestOrNullAsync(repository, digest, cancellationToken);

    /// <summary>
    /// The annotations that describe a repository, from its newest tag: the manifest's (an index's own) annotations first;
    /// keys they lack are taken from an index's first child's annotations, then from the image configuration's labels,
    /// where builds such as <c>docker build --label</c> put them. Sorted by key.
    /// </summary>
    public async Task<IReadOnlyList<KeyValuePair<string, string>>> DescribeAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        var found = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Add(IEnumerable<KeyValuePair<string, string>>? entries)
        {
            foreach (var (key, value) in entries ?? []) found.TryAdd(key, value);
        }
        var parsed = await ParseOrNullAsync(repository, digest, cancellationToken);
        if (parsed is null) return [];
        Add(parsed.Annotations);
        var image = parsed;
        if (parsed.IsIndex && parsed.Manifests.Count > 0)
        {
            image = await ParseOrNullAsync(repository, parsed.Manifests[0].Digest, cancellationToken);
            Add(image?.Annotations);
        }
        if (image is { IsIndex: false, Config: { } config } && await ReadConfigOrNullAsync(repository, config, cancellationToken) is { } summary)
            Add(summary.Labels);
        return found.ToList();
    }

    /// <summary>The image configuration a manifest names, or null for an artifact's config or one that cannot be read.</summary>
    public async Task<ImageConfigSummary?> ReadConfigOrNullAsync(RepositoryKey repository, Descriptor config, CancellationToken cancellationToken)
    {
        if (!IsImageConfig(config.MediaType) || config.Size > MaxConfigBytes) return null;
        if (_configs.TryGetValue(config.Digest, out var cached)) return cached;
        ImageConfigSummary? summary;
        try
        {
            using var blob = await blobs.OpenAsync(repository, config.Digest, cancellationToken);
            using var document = await JsonDocument.ParseAsync(blob.Stream, cancellationToken: cancellationToken);
            summary = ParseConfig(document.RootElement);
        }
        catch (Exception error) when (error is OciException or JsonException)
        {
            return null; // a missing or malformed configuration is shown as absent, not remembered
        }
        Remember(_configs, config.Digest, summary);
        return summary;
    }

    /// <summary>Each child of an index with its platform, in the index's order.</summary>
    public static IReadOnlyList<PlatformRow> Platforms(ParsedManifest index, byte[] content)
    {
        using var document = JsonDocument.Parse(content);
        var rows = new List<PlatformRow>(index.Manifests.Count);
        var children = document.RootElement.TryGetProperty("manifests", out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().ToList() : [];
        for (var i = 0; i < index.Manifests.Count; i++)
        {
            var platform = i < children.Count && children[i].TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object
                ? ImageConfigSummary.PlatformText(Text(p, "os"), Text(p, "architecture"), Text(p, "variant"))
                : "unknown";
            rows.Add(new PlatformRow(platform, index.Manifests[i]));
        }
        return rows;
    }

    /// <summary>
    /// The manifests that refer to <paramref name="subject"/>, grouped by what they are: OCI referrers (the referrers
    /// API's own listing) and cosign's tag scheme (<c>sha256-&lt;hex&gt;.sig</c>, <c>.att</c>, <c>.sbom</c>), which cosign
    /// still uses by default.
    /// </summary>
    public async Task<IReadOnlyList<ReferrerGroup>> ListReferrersAsync(RepositoryKey repository, Digest subject, CancellationToken cancellationToken)
    {
        var rows = new Dictionary<string, List<ReferrerRow>>();
        var seen = new HashSet<Digest>();
        foreach (var referrer in await manifests.ListReferrersAsync(repository, subject, null, cancellationToken))
        {
            if (!seen.Add(referrer.Digest)) continue;
            var type = referrer.ArtifactType ?? referrer.MediaType;
            var layers = ArtifactTypes.GroupOf(type) == ArtifactTypes.Other ? await LayerTypesAsync(repository, referrer.Digest, cancellationToken) : [];
            Add(rows, ArtifactTypes.GroupOf(type, layers), new ReferrerRow(referrer.Digest, type, ArtifactTypes.NameOf(type, layers), referrer.Size, Created(referrer.AnnotationsJson)));
        }
        foreach (var (suffix, group) in ArtifactTypes.CosignTagSuffixes)
        {
            var tag = $"{subject.Algorithm}-{subject.Encoded}{suffix}";
            if (await metadata.GetTagOrNullAsync(repository, tag, cancellationToken) is not { } digest || !seen.Add(digest)) continue;
            if (await metadata.GetManifestOrNullAsync(repository, digest, cancellationToken) is not { } stored) continue;
            var layers = await LayerTypesAsync(repository, digest, cancellationToken);
            Add(rows, group, new ReferrerRow(digest, $"cosign {suffix[1..]} (tag {tag})", ArtifactTypes.NameOf(stored.ArtifactType ?? "", layers, group), stored.Content.Length,
                Created(stored.AnnotationsJson)));
        }
        return ArtifactTypes.Groups.Where(g => rows.ContainsKey(g.Key)).Select(g => new ReferrerGroup(g.Key, g.Title, rows[g.Key])).ToList();
    }

    private static void Add(Dictionary<string, List<ReferrerRow>> rows, string group, ReferrerRow row)
    {
        if (!rows.TryGetValue(group, out var list)) rows[group] = list = [];
        list.Add(row);
    }

    private async Task<IReadOnlyList<string>> LayerTypesAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) =>
        (await ParseOrNullAsync(repository, digest, cancellationToken))?.Layers.Select(l => l.MediaType).ToList() ?? [];

    private static string? Created(string? annotationsJson)
    {
        if (annotationsJson is null) return null;
        var annotations = JsonSerializer.Deserialize<Dictionary<string, string>>(annotationsJson);
        return annotations?.GetValueOrDefault("org.opencontainers.image.created");
    }

    /// <summary>What a tag's manifest holds: for an image its config and layers; for an index the sum and platforms of its children.</summary>
    public async Task<ContentSummary> SummarizeAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        var key = (repository.Registry, repository.Name, digest);
        if (_summaries.TryGetValue(key, out var cached)) return cached;
        var stored = await metadata.GetManifestOrNullAsync(repository, digest, cancellationToken);
        if (stored is null) return new ContentSummary("missing", 0, []);
        var parsed = ManifestParser.Parse(stored.Content, stored.MediaType);
        ContentSummary summary;
        if (parsed.IsIndex)
        {
            long size = stored.Content.Length;
            foreach (var child in parsed.Manifests)
                size += (await metadata.GetManifestOrNullAsync(repository, child.Digest, cancellationToken)) is { } childManifest
                    ? ImageSize(ManifestParser.Parse(childManifest.Content, childManifest.MediaType), childManifest.Content.Length)
                    : child.Size;
            summary = new ContentSummary("index", size, Platforms(parsed, stored.Content).Select(p => p.Platform).ToList());
        }
        else
        {
            var config = parsed.Config is { } descriptor ? await ReadConfigOrNullAsync(repository, descriptor, cancellationToken) : null;
            summary = new ContentSummary(config is null ? "artifact" : "image", ImageSize(parsed, stored.Content.Length), config is null ? [] : [config.Platform]);
        }
        Remember(_summaries, key, summary);
        return summary;
    }

    /// <summary>What pulling the image transfers: the manifest, its configuration and its (compressed) layers.</summary>
    public static long ImageSize(ParsedManifest manifest, long manifestBytes) =>
        manifestBytes + (manifest.Config?.Size ?? 0) + manifest.Layers.Sum(layer => layer.Size);

    private async Task<ParsedManifest?> ParseOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken) =>
        await metadata.GetManifestOrNullAsync(repository, digest, cancellationToken) is { } stored ? ManifestParser.Parse(stored.Content, stored.MediaType) : null;

    private static void Remember<TKey, TValue>(ConcurrentDictionary<TKey, TValue> cache, TKey key, TValue value) where TKey : notnull
    {
        // Immutable content needs no invalidation, only a bound; starting over is simpler than an LRU and rarely happens.
        if (cache.Count >= CacheCapacity) cache.Clear();
        cache[key] = value;
    }

    private static bool IsImageConfig(string mediaType) =>
        mediaType is "application/vnd.oci.image.config.v1+json" or "application/vnd.docker.container.image.v1+json";

    private static ImageConfigSummary ParseConfig(JsonElement root)
    {
        var config = root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : default;
        var labels = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("Labels", out var l) && l.ValueKind == JsonValueKind.Object
            ? l.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).Select(p => KeyValuePair.Create(p.Name, p.Value.GetString()!)).OrderBy(p => p.Key, StringComparer.Ordinal).ToList()
            : [];
        var environment = Strings(config, "Env").Select(entry => entry.Split('=', 2)[0]).ToList();
        return new ImageConfigSummary(Text(root, "created"), Text(root, "os"), Text(root, "architecture"), Text(root, "variant"), Text(config, "User"),
            Strings(config, "Entrypoint"), Strings(config, "Cmd"), environment, labels);
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static IReadOnlyList<string> Strings(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList()
            : [];
}
