namespace Berth.Core.Content;

/// <summary>
/// Enforces ACR's changeable attributes on the data plane (image locking): <c>writeEnabled=false</c> blocks
/// overwriting and deleting, <c>deleteEnabled=false</c> blocks deleting, <c>readEnabled=false</c> blocks pulling.
/// A repository's attributes apply to everything in it.
/// </summary>
public sealed class ContentLocks(IRepositoryDetailsStore details)
{
    public async Task EnsureReadableAsync(RepositoryKey repository, string? tag, Digest manifest, CancellationToken cancellationToken)
    {
        var attributes = await details.GetEffectiveAttributesAsync(repository, tag, manifest, cancellationToken);
        if (!attributes.Repository.ReadEnabled) throw Denied($"repository {repository.Name} has readEnabled=false");
        if (attributes.Tag is { ReadEnabled: false }) throw Denied($"tag {tag} has readEnabled=false");
        if (attributes.Manifest is { ReadEnabled: false }) throw Denied($"manifest {manifest} has readEnabled=false");
    }

    /// <summary>A push into the repository (blobs or a manifest without a tag).</summary>
    public async Task EnsureRepositoryWritableAsync(RepositoryKey repository, CancellationToken cancellationToken)
    {
        var attributes = await details.GetEffectiveAttributesAsync(repository, null, null, cancellationToken);
        if (!attributes.Repository.WriteEnabled) throw Denied($"repository {repository.Name} has writeEnabled=false");
    }

    /// <summary>Pointing <paramref name="tag"/> at <paramref name="manifest"/>; re-pushing the same content is no change and always allowed.</summary>
    public async Task EnsureTagWritableAsync(RepositoryKey repository, string tag, Digest manifest, Digest? current, CancellationToken cancellationToken)
    {
        var attributes = await details.GetEffectiveAttributesAsync(repository, tag, null, cancellationToken);
        if (!attributes.Repository.WriteEnabled) throw Denied($"repository {repository.Name} has writeEnabled=false");
        if (current is { } existing && existing != manifest && attributes.Tag is { WriteEnabled: false })
            throw Denied($"tag {tag} is locked (writeEnabled=false) and cannot be moved to another manifest");
    }

    /// <summary>
    /// Refuses a delete for which the store found locked content in the way (<see cref="ContentDeletion.Locked"/>,
    /// <see cref="RepositoryDeletion.Locked"/>). The store checks inside the delete's transaction, so no lock set
    /// meanwhile can slip past; this only turns its finding into ACR's answer, naming everything that is locked.
    /// </summary>
    public static void EnsureNoneLocked(RepositoryKey repository, IReadOnlyList<LockedContent> locked, string? operation = null)
    {
        if (locked.Count == 0) return;
        var reasons = string.Join("; ", locked.Select(l => Describe(repository, l)));
        throw Denied(operation is null ? reasons : $"{operation}: {reasons}");
    }

    private static string Describe(RepositoryKey repository, LockedContent content)
    {
        var what = content.Target switch
        {
            AttributeTarget.Repository => $"repository {repository.Name}",
            AttributeTarget.Tag => $"tag {content.Key}",
            _ => $"manifest {content.Key}",
        };
        var flags = new[] { content.DeleteEnabled ? null : "deleteEnabled=false", content.WriteEnabled ? null : "writeEnabled=false" };
        return $"{what} is locked ({string.Join(", ", flags.OfType<string>())})";
    }

    public async Task EnsureRepositoryDeletableAsync(RepositoryKey repository, CancellationToken cancellationToken)
    {
        var attributes = await details.GetEffectiveAttributesAsync(repository, null, null, cancellationToken);
        EnsureDeletable(attributes.Repository, $"repository {repository.Name}");
    }

    private static void EnsureDeletable(ContentAttributes attributes, string what)
    {
        if (!attributes.WriteEnabled) throw Denied($"{what} is locked (writeEnabled=false)");
        if (!attributes.DeleteEnabled) throw Denied($"{what} has deleteEnabled=false");
    }

    private static OciException Denied(string reason) =>
        new(OciErrorCode.Denied, $"The operation is disallowed on this registry, repository or image: {reason}.", status: 403);
}
