using System.Text.Json;
using Berth.Core.Webhooks;

namespace Berth.Core.Content;

public sealed record PushedManifest(Digest Digest, Digest? Subject);

/// <summary>Manifests, tags, referrers and the catalog of a registry.</summary>
public sealed class ManifestService(IMetadataStore metadata, ContentLocks locks, TimeProvider time)
{
    /// <summary>Layer media types whose bytes live elsewhere (Docker foreign layers, OCI non-distributable layers).</summary>
    public static bool IsExternalLayer(string mediaType) =>
        mediaType.Contains(".foreign.", StringComparison.Ordinal) || mediaType.Contains(".nondistributable.", StringComparison.Ordinal);

    public async Task<StoredManifest> GetAsync(RepositoryKey repository, Reference reference, CancellationToken cancellationToken)
    {
        var digest = reference.Digest ?? await metadata.GetTagOrNullAsync(repository, reference.Tag!, cancellationToken)
            ?? throw ManifestUnknown(reference);
        var manifest = await metadata.GetManifestOrNullAsync(repository, digest, cancellationToken) ?? throw ManifestUnknown(reference);
        await locks.EnsureReadableAsync(repository, reference.Tag, digest, cancellationToken);
        return manifest;
    }

    /// <summary>Stores a pushed manifest; <paramref name="request"/> is the push as webhook events name it.</summary>
    public async Task<PushedManifest> PutAsync(RepositoryKey repository, Reference reference, string? contentType, byte[] content, EventRequest? request,
        CancellationToken cancellationToken)
    {
        var digest = Digest.Compute(content, reference.Digest?.Algorithm ?? Digest.Sha256);
        if (reference.Digest is { } expected && expected != digest)
            throw new OciException(OciErrorCode.DigestInvalid, $"the manifest has digest {digest}, not {expected}",
                new { expected = expected.ToString(), actual = digest.ToString() });

        var parsed = ManifestParser.Parse(content, contentType);

        var blobReferences = parsed.Layers.Where(l => !IsExternalLayer(l.MediaType)).Select(l => l.Digest).ToList();
        if (parsed.Config is { } config) blobReferences.Insert(0, config.Digest);
        var missingBlobs = await metadata.FindUnlinkedBlobsAsync(repository, blobReferences, cancellationToken);
        if (missingBlobs.Count > 0)
            throw new OciException(OciErrorCode.ManifestBlobUnknown, $"blob {missingBlobs[0]} is not in repository {repository.Name}; push it before the manifest",
                new { digest = missingBlobs[0].ToString() });

        // Clients verify a pulled blob against the descriptor's size as well as its digest (image spec: size MUST match),
        // so a manifest whose descriptor disagrees with the stored blob would be unpullable: refuse it now.
        foreach (var descriptor in (parsed.Config is { } described ? parsed.Layers.Prepend(described) : parsed.Layers).Where(d => !IsExternalLayer(d.MediaType)))
        {
            if (await metadata.GetLinkedBlobSizeOrNullAsync(repository, descriptor.Digest, cancellationToken) is { } size && size != descriptor.Size)
                throw new OciException(OciErrorCode.ManifestInvalid, $"the descriptor of {descriptor.Digest} says {descriptor.Size} bytes but the blob has {size}",
                    new { digest = descriptor.Digest.ToString(), declared = descriptor.Size, actual = size });
        }

        var manifestReferences = parsed.Manifests.Select(m => m.Digest).ToList();
        var missingManifests = await metadata.FindMissingManifestsAsync(repository, manifestReferences, cancellationToken);
        if (missingManifests.Count > 0)
            throw new OciException(OciErrorCode.ManifestBlobUnknown, $"manifest {missingManifests[0]} is not in repository {repository.Name}; push it before the index",
                new { digest = missingManifests[0].ToString() });

        if (reference.Tag is { } tag)
            await locks.EnsureTagWritableAsync(repository, tag, digest, await metadata.GetTagOrNullAsync(repository, tag, cancellationToken), cancellationToken);
        else
            await locks.EnsureRepositoryWritableAsync(repository, cancellationToken);

        await metadata.PutManifestAsync(repository, Write(parsed, digest, content, blobReferences, manifestReferences, reference.Tag, request), cancellationToken);
        return new PushedManifest(digest, parsed.Subject?.Digest);
    }

    /// <summary>
    /// Keeps a manifest fetched from a cache rule's upstream, byte for byte, under <paramref name="tag"/> when given. Its
    /// blobs and child manifests are fetched when first pulled, so they need not be here yet; the references are recorded
    /// all the same, so that garbage collection keeps whatever of them arrives. A locked tag is not moved.
    /// </summary>
    public async Task StoreFromUpstreamAsync(RepositoryKey repository, string? tag, string? mediaType, byte[] content, CancellationToken cancellationToken)
    {
        var digest = Digest.Compute(content);
        var parsed = ManifestParser.Parse(content, mediaType);
        var blobReferences = parsed.Layers.Where(l => !IsExternalLayer(l.MediaType)).Select(l => l.Digest).ToList();
        if (parsed.Config is { } config) blobReferences.Insert(0, config.Digest);
        if (tag is not null)
            await locks.EnsureTagWritableAsync(repository, tag, digest, await metadata.GetTagOrNullAsync(repository, tag, cancellationToken), cancellationToken);
        var write = Write(parsed, digest, content, blobReferences, parsed.Manifests.Select(m => m.Digest).ToList(), tag, request: null) with { ReferencesMayBeAbsent = true };
        await metadata.PutManifestAsync(repository, write, cancellationToken);
    }

    private ManifestWrite Write(ParsedManifest parsed, Digest digest, byte[] content, IReadOnlyList<Digest> blobReferences, IReadOnlyList<Digest> manifestReferences, string? tag,
        EventRequest? request) =>
        new(new StoredManifest(digest, parsed.MediaType, content, parsed.EffectiveArtifactType, parsed.Subject?.Digest,
                parsed.Annotations is null ? null : JsonSerializer.Serialize(parsed.Annotations), time.GetUtcNow()),
            blobReferences, manifestReferences, tag, request);

    /// <summary>
    /// Deleting by digest removes the manifest and its tags; deleting by tag removes only the tag. The store refuses
    /// either in its own transaction when the repository, the target or (by digest) one of its tags is locked. With the
    /// registry's soft-delete policy on, what is deleted is kept for a restore.
    /// </summary>
    public async Task DeleteAsync(Registry registry, RepositoryKey repository, Reference reference, EventRequest? request, CancellationToken cancellationToken)
    {
        var softDelete = LifecyclePolicies.Of(registry).SoftDelete.Enabled;
        var result = reference.Digest is { } digest
            ? await metadata.DeleteManifestAsync(repository, digest, softDelete, request, cancellationToken)
            : await metadata.DeleteTagAsync(repository, reference.Tag!, softDelete, request, cancellationToken);
        ContentLocks.EnsureNoneLocked(repository, result.Locked);
        if (!result.Found) throw ManifestUnknown(reference);
    }

    public async Task<IReadOnlyList<string>> ListTagsAsync(RepositoryKey repository, int limit, string? last, CancellationToken cancellationToken)
    {
        if (!await metadata.RepositoryExistsAsync(repository, cancellationToken))
            throw new OciException(OciErrorCode.NameUnknown, "repository name not known to registry", new { name = repository.Name });
        return await metadata.ListTagsAsync(repository, limit, last, cancellationToken);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> repositories after <paramref name="last"/> that <paramref name="caller"/> has any
    /// right on: all of them for the admin, only the public ones for an anonymous caller of a registry whose anonymous
    /// pull is limited to patterns. Reads on past hidden names, so they neither shorten a page nor end the paging.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, Permissions caller, int limit, string? last, CancellationToken cancellationToken)
    {
        var visible = new List<string>(Math.Min(limit, 1024));
        while (visible.Count < limit)
        {
            var wanted = limit - visible.Count;
            var batch = await metadata.ListRepositoriesAsync(registry, wanted, last, cancellationToken);
            visible.AddRange(batch.Where(name => caller.GetRepositoryActions(name) != RepositoryActions.None));
            if (batch.Count < wanted) break; // the store has no more
            last = batch[^1];
        }
        return visible;
    }

    public async Task<IReadOnlyList<ReferrerRecord>> ListReferrersAsync(RepositoryKey repository, Digest subject, string? artifactType, CancellationToken cancellationToken)
    {
        var referrers = await metadata.ListReferrersAsync(repository, subject, cancellationToken);
        return artifactType is null ? referrers : referrers.Where(r => r.ArtifactType == artifactType).ToList();
    }

    private static OciException ManifestUnknown(Reference reference) =>
        new(OciErrorCode.ManifestUnknown, "manifest unknown to registry", new { reference = reference.ToString() });
}
