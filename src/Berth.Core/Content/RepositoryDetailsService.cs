using Berth.Core.Webhooks;

namespace Berth.Core.Content;

/// <summary>ACR's repository management on the data plane (<c>/acr/v1</c>): details, listings, attributes and deletion.</summary>
public sealed class RepositoryDetailsService(IRepositoryDetailsStore details, IMetadataStore metadata, ManifestService manifests)
{
    public async Task<RepositoryDetails> GetRepositoryAsync(RepositoryKey repository, CancellationToken cancellationToken) =>
        await details.GetRepositoryOrNullAsync(repository, cancellationToken) ?? throw NameUnknown(repository);

    /// <summary>Up to <paramref name="limit"/> tags the listing shows: those with <c>listEnabled=false</c> are left out, as ACR does.</summary>
    public async Task<IReadOnlyList<TagDetails>> ListTagsAsync(RepositoryKey repository, int limit, string? last, ListOrder order, CancellationToken cancellationToken)
    {
        await GetRepositoryAsync(repository, cancellationToken);
        return await ListShownAsync((count, after) => details.ListTagsAsync(repository, count, after, order, cancellationToken),
            limit, last, t => t.Attributes.ListEnabled, t => t.Name);
    }

    public async Task<TagDetails> GetTagAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken)
    {
        Names.EnsureTag(tag);
        await GetRepositoryAsync(repository, cancellationToken);
        return await details.GetTagOrNullAsync(repository, tag, cancellationToken)
            ?? throw new OciException(OciErrorCode.TagUnknown, "the specified tag does not exist", new { tag });
    }

    public async Task<IReadOnlyList<ManifestDetails>> ListManifestsAsync(RepositoryKey repository, int limit, string? last, ListOrder order, CancellationToken cancellationToken)
    {
        await GetRepositoryAsync(repository, cancellationToken);
        return await ListShownAsync((count, after) => details.ListManifestsAsync(repository, count, after, order, cancellationToken),
            limit, last, m => m.Attributes.ListEnabled, m => m.Digest.ToString());
    }

    /// <summary>
    /// Reads the store's listing on until <paramref name="limit"/> items that are shown are gathered or it ends. Hidden
    /// items must neither shorten a page nor, by shortening it, make the caller think the listing has ended.
    /// </summary>
    private static async Task<IReadOnlyList<T>> ListShownAsync<T>(Func<int, string?, Task<IReadOnlyList<T>>> read, int limit, string? last,
        Func<T, bool> shown, Func<T, string> cursor)
    {
        var result = new List<T>();
        while (true)
        {
            var batch = await read(limit, last);
            result.AddRange(batch.Where(shown).Take(limit - result.Count));
            if (result.Count >= limit || batch.Count < limit) return result;
            last = cursor(batch[^1]);
        }
    }

    /// <summary>A manifest's details plus what only its bytes tell: the config media type and, for an index, its children's platforms.</summary>
    public async Task<(ManifestDetails Details, ParsedManifest Parsed)> GetManifestAsync(RepositoryKey repository, Digest digest, CancellationToken cancellationToken)
    {
        await GetRepositoryAsync(repository, cancellationToken);
        var found = await details.GetManifestOrNullAsync(repository, digest, cancellationToken) ?? throw ManifestUnknown(digest);
        var stored = await metadata.GetManifestOrNullAsync(repository, digest, cancellationToken) ?? throw ManifestUnknown(digest);
        return (found, ManifestParser.Parse(stored.Content, stored.MediaType));
    }

    /// <summary>Changes the attributes of the repository, a tag or a manifest; returns the new attributes.</summary>
    public async Task<ContentAttributes> UpdateAttributesAsync(RepositoryKey repository, AttributeTarget target, string key, AttributesPatch patch, CancellationToken cancellationToken)
    {
        var current = target switch
        {
            AttributeTarget.Repository => (await GetRepositoryAsync(repository, cancellationToken)).Attributes,
            AttributeTarget.Tag => (await GetTagAsync(repository, key, cancellationToken)).Attributes,
            _ => (await details.GetManifestOrNullAsync(repository, Digest.Parse(key), cancellationToken) ?? throw ManifestUnknown(Digest.Parse(key))).Attributes,
        };
        var updated = current.Apply(patch);
        if (!await details.SetAttributesAsync(repository, target, key, updated, cancellationToken))
            throw target == AttributeTarget.Repository ? NameUnknown(repository) : new OciException(OciErrorCode.ManifestUnknown, $"{key} was deleted meanwhile");
        return updated;
    }

    /// <summary>
    /// Deletes the repository and everything in it, or, as ACR does, nothing at all when the repository or any tag or
    /// manifest in it is locked (<c>deleteEnabled=false</c> or <c>writeEnabled=false</c>).
    /// </summary>
    public async Task<(IReadOnlyList<string> Manifests, IReadOnlyList<string> Tags)> DeleteRepositoryAsync(Registry registry, RepositoryKey repository, EventRequest? request,
        CancellationToken cancellationToken)
    {
        var result = await details.DeleteRepositoryAsync(repository, LifecyclePolicies.Of(registry).SoftDelete.Enabled, request, cancellationToken) ?? throw NameUnknown(repository);
        ContentLocks.EnsureNoneLocked(repository, result.Locked, $"repository {repository.Name} holds locked content and was not deleted");
        return (result.Manifests, result.Tags);
    }

    public async Task DeleteTagAsync(Registry registry, RepositoryKey repository, string tag, EventRequest? request, CancellationToken cancellationToken)
    {
        await GetTagAsync(repository, tag, cancellationToken);
        await manifests.DeleteAsync(registry, repository, new Reference(tag, null), request, cancellationToken);
    }

    /// <summary>Deletes the manifest and every tag on it, as a <c>/v2</c> DELETE by digest does (locks apply).</summary>
    public async Task DeleteManifestAsync(Registry registry, RepositoryKey repository, Digest digest, EventRequest? request, CancellationToken cancellationToken)
    {
        await GetRepositoryAsync(repository, cancellationToken);
        await manifests.DeleteAsync(registry, repository, new Reference(null, digest), request, cancellationToken);
    }

    private static OciException NameUnknown(RepositoryKey repository) =>
        new(OciErrorCode.NameUnknown, "repository name not known to registry", new { name = repository.Name });

    private static OciException ManifestUnknown(Digest digest) =>
        new(OciErrorCode.ManifestUnknown, "manifest unknown to registry", new { digest = digest.ToString() });
}
