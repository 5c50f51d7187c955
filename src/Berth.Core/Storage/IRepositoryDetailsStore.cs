namespace Berth.Core.Storage;

/// <summary>ACR's changeable attributes of a repository, tag or manifest (image locking). All enabled by default.</summary>
public sealed record ContentAttributes(bool DeleteEnabled, bool WriteEnabled, bool ReadEnabled, bool ListEnabled)
{
    public static ContentAttributes Default { get; } = new(true, true, true, true);

    public ContentAttributes Apply(AttributesPatch patch) => new(
        patch.DeleteEnabled ?? DeleteEnabled, patch.WriteEnabled ?? WriteEnabled, patch.ReadEnabled ?? ReadEnabled, patch.ListEnabled ?? ListEnabled);
}

/// <summary>A PATCH of changeable attributes; null leaves one as it is.</summary>
public sealed record AttributesPatch(bool? DeleteEnabled, bool? WriteEnabled, bool? ReadEnabled, bool? ListEnabled);

/// <summary>What carries attributes: the repository itself, one of its tags, or one of its manifests.</summary>
public enum AttributeTarget { Repository, Tag, Manifest }

public sealed record RepositoryDetails(string Name, DateTimeOffset CreatedTime, DateTimeOffset LastUpdateTime, int ManifestCount, int TagCount, ContentAttributes Attributes)
{
    /// <summary>Manifest GETs of the repository, by tag or digest, as far as the nodes have flushed them.</summary>
    public PullCounts Pulls { get; init; } = PullCounts.None;
}

/// <summary>A place in the tag order of <see cref="IRepositoryDetailsStore.SearchTagsAsync"/>: the tag (or where one would be) last pushed at <paramref name="Pushed"/> (millisecond precision, as stored).</summary>
public sealed record TagPosition(DateTimeOffset Pushed, string Tag);

public sealed record TagDetails(string Name, Digest Digest, DateTimeOffset CreatedTime, DateTimeOffset LastUpdateTime, ContentAttributes Attributes)
{
    /// <summary>Manifest GETs by this tag, as far as the nodes have flushed them.</summary>
    public PullCounts Pulls { get; init; } = PullCounts.None;
}

public sealed record ManifestDetails(
    Digest Digest, long Size, DateTimeOffset CreatedTime, DateTimeOffset LastUpdateTime, string MediaType, string? ArtifactType,
    IReadOnlyList<string> Tags, ContentAttributes Attributes);

/// <summary>Sort orders of ACR's listing API (<c>orderby=timedesc|timeasc</c>); names otherwise.</summary>
public enum ListOrder { Name, TimeDescending, TimeAscending }

/// <summary>The attributes that govern one operation: the repository's, and the tag's and manifest's when they apply.</summary>
public sealed record EffectiveAttributes(ContentAttributes Repository, ContentAttributes? Tag, ContentAttributes? Manifest);

/// <summary>Repository, tag and manifest details and attributes, as ACR's <c>/acr/v1</c> API shows and changes them.</summary>
public interface IRepositoryDetailsStore
{
    Task<RepositoryDetails?> GetRepositoryOrNullAsync(RepositoryKey repository, CancellationToken cancellationToken);

    Task<IReadOnlyList<TagDetails>> ListTagsAsync(RepositoryKey repository, int limit, string? last, ListOrder order, CancellationToken cancellationToken);

    /// <summary>
    /// A page of the tags a listing shows (not <c>listEnabled=false</c>), newest push first then by name, whose name
    /// contains <paramref name="contains"/> ignoring ASCII case (every tag when empty): at most <paramref name="limit"/>
    /// of those just after <paramref name="from"/> (from the newest when null), or with <paramref name="before"/> those just
    /// before it, always returned in page order. The web page's tag table; keyset paging over the tags_by_push index, so
    /// any page of a repository with 100,000 tags costs one short index walk, never a skip over the tags before it.
    /// </summary>
    Task<IReadOnlyList<TagDetails>> SearchTagsAsync(RepositoryKey repository, string contains, TagPosition? from, bool before, int limit, CancellationToken cancellationToken);

    /// <summary>Repository names of the registry after <paramref name="last"/> in name order that contain <paramref name="contains"/> (ignoring ASCII case; all when empty), at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<string>> SearchRepositoriesAsync(string registry, string contains, int limit, string? last, CancellationToken cancellationToken);

    Task<TagDetails?> GetTagOrNullAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken);

    Task<IReadOnlyList<ManifestDetails>> ListManifestsAsync(RepositoryKey repository, int limit, string? last, ListOrder order, CancellationToken cancellationToken);

    Task<ManifestDetails?> GetManifestOrNullAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken);

    /// <summary>Stores attributes for an existing target; false when the target does not exist.</summary>
    Task<bool> SetAttributesAsync(RepositoryKey repository, AttributeTarget target, string key, ContentAttributes attributes, CancellationToken cancellationToken);

    /// <summary>The attributes of the repository and, where given, of the tag and the manifest, in one read.</summary>
    Task<EffectiveAttributes> GetEffectiveAttributesAsync(RepositoryKey repository, string? tag, Digest? manifest, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes the repository with all its tags, manifests, links and attributes and returns what went, or null if it did
    /// not exist. When the repository or anything in it is locked (checked in the same transaction) it deletes nothing and
    /// returns the locked content instead. With <paramref name="softDelete"/> its manifests and tags are kept as deleted,
    /// with the blob links and references a restore needs, until they are restored or purged. Each deleted manifest fires
    /// a <c>delete</c> event, written in the same transaction.
    /// </summary>
    Task<RepositoryDeletion?> DeleteRepositoryAsync(RepositoryKey repository, bool softDelete, Webhooks.EventRequest? request, CancellationToken cancellationToken);
}
