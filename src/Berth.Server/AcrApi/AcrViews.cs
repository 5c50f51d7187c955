namespace Berth.Server.AcrApi;

/// <summary>The JSON shapes of ACR's <c>/acr/v1</c> answers (reference §5), built from the domain's details.</summary>
internal sealed class AcrViews(string loginServer, string repository)
{
    public object Repository(RepositoryDetails details) => new
    {
        registry = loginServer,
        imageName = repository,
        createdTime = Time(details.CreatedTime),
        lastUpdateTime = Time(details.LastUpdateTime),
        manifestCount = details.ManifestCount,
        tagCount = details.TagCount,
        changeableAttributes = Attributes(details.Attributes),
        pullCount = details.Pulls.Total,
        anonymousPullCount = details.Pulls.Anonymous,
        authenticatedPullCount = details.Pulls.Authenticated,
        lastPullTime = PullTime(details.Pulls),
    };

    public object Tags(IEnumerable<TagDetails> tags) => new { registry = loginServer, imageName = repository, tags = tags.Select(TagObject).ToList() };

    public object Tag(TagDetails tag) => new { registry = loginServer, imageName = repository, tag = TagObject(tag) };

    public object Manifests(IEnumerable<ManifestDetails> manifests) =>
        new { registry = loginServer, imageName = repository, manifests = manifests.Select(m => ManifestObject(m, null)).ToList() };

    public object Manifest(ManifestDetails details, ParsedManifest parsed) =>
        new { registry = loginServer, imageName = repository, manifest = ManifestObject(details, parsed) };

    public static object Attributes(ContentAttributes attributes) => new
    {
        deleteEnabled = attributes.DeleteEnabled,
        writeEnabled = attributes.WriteEnabled,
        readEnabled = attributes.ReadEnabled,
        listEnabled = attributes.ListEnabled,
    };

    private static object TagObject(TagDetails tag) => new
    {
        name = tag.Name,
        digest = tag.Digest.ToString(),
        createdTime = Time(tag.CreatedTime),
        lastUpdateTime = Time(tag.LastUpdateTime),
        signed = false,
        changeableAttributes = Attributes(tag.Attributes),
        pullCount = tag.Pulls.Total,
        anonymousPullCount = tag.Pulls.Anonymous,
        authenticatedPullCount = tag.Pulls.Authenticated,
        lastPullTime = PullTime(tag.Pulls),
    };

    /// <summary>
    /// A manifest entry. <c>imageSize</c> is the manifest plus the blobs it references, as ACR counts it; config media
    /// type and an index's children are read from the manifest itself when it is at hand.
    /// </summary>
    private static Dictionary<string, object?> ManifestObject(ManifestDetails details, ParsedManifest? parsed)
    {
        var entry = new Dictionary<string, object?>
        {
            ["digest"] = details.Digest.ToString(),
            ["imageSize"] = parsed is null ? details.Size : details.Size + (parsed.Config?.Size ?? 0) + parsed.Layers.Sum(l => l.Size),
            ["createdTime"] = Time(details.CreatedTime),
            ["lastUpdateTime"] = Time(details.LastUpdateTime),
            ["mediaType"] = details.MediaType,
            ["tags"] = details.Tags,
            ["changeableAttributes"] = Attributes(details.Attributes),
        };
        if (details.ArtifactType is not null) entry["artifactType"] = details.ArtifactType;
        if (parsed?.Config is { } config) entry["configMediaType"] = config.MediaType;
        if (parsed is { IsIndex: true })
            entry["references"] = parsed.Manifests.Select(m => new { digest = m.Digest.ToString() }).ToList();
        return entry;
    }

    /// <summary>
    /// Berth's additions to ACR's shapes (az ignores fields it does not know): pulls are manifest GETs, counted on each node
    /// and flushed every <c>Berth:PullCounts:FlushInterval</c>, so the newest seconds may be missing. Null before the first pull.
    /// </summary>
    private static string? PullTime(PullCounts pulls) => pulls.LastPulled is { } time ? Time(time) : null;

    /// <summary>ACR's timestamps: UTC, ISO 8601 with seven fraction digits.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ");
}
