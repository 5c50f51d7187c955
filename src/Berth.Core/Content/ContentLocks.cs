using Berth.Core.Storage;
using Berth.Oci;

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

    public async Task EnsureTagDeletableAsync(RepositoryKey repository, string tag, CancellationToken cancellationToken)
    {
        var attributes = await details.GetEffectiveAttributesAsync(repository, tag, null, cancellationToken);
        EnsureDeletable(attributes.Repository, $"repository {repository.Name}");
        EnsureDeletable(attributes.Tag!, $"tag {tag}");
    }

    /// <summary>Deleting a manifest also deletes its tags, so every one of them must allow it too.</summary>
    public async Task EnsureManifestDeletableAsync(RepositoryKey repository, Digest manifest, CancellationToken cancellationToken)
    {
        var attributes = await details.GetEffectiveAttributesAsync(repository, null, manifest, cancellationToken);
        EnsureDeletable(attributes.Repository, $"repository {repository.Name}");
        EnsureDeletable(attributes.Manifest!, $"manifest {manifest}");
        foreach (var (tag, tagAttributes) in await details.GetTagAttributesForManifestAsync(repository, manifest, cancellationToken))
            EnsureDeletable(tagAttributes, $"tag {tag} (which points at {manifest})");
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
