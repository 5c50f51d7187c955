using Berth.Core.Content;

namespace Berth.Core.Import;

/// <summary>ACR's import modes: NoForce refuses to move an existing target tag to other content; Force moves it.</summary>
public enum ImportMode { NoForce, Force }

/// <summary>A target of an import: a repository of the target registry, and the tag to set there (null: manifests only).</summary>
public sealed record ImportTarget(string Repository, string? Tag);

/// <summary>What to import into <see cref="Registry"/>: a source repository's tag or digest, copied to each target.</summary>
public sealed record ImportRequest(string Registry, string SourceRepository, Reference SourceReference, IReadOnlyList<ImportTarget> Targets, ImportMode Mode);

/// <summary>What an import did: the imported manifest, how many manifests it wrote, and how its blobs arrived.</summary>
public sealed record ImportResult(Digest Digest, int Manifests, int BlobsCopied, int BlobsMounted, long BytesCopied);

/// <summary>
/// Copies an image from an <see cref="IImageSource"/> into repositories of a registry on this server, as ACR's import
/// does: the manifest with everything it holds (all children of an index, all their blobs) and the manifests that
/// refer to any of them where the source serves the referrers API, then the target tags. Blobs arrive before the
/// manifests that need them and children before their index, through the same checks as a push (locks, descriptor
/// sizes, digests). An import that fails removes the manifests and blob links it added, so it leaves nothing half-done.
/// </summary>
public sealed class ImageImporter(ManifestService manifests, IMetadataStore metadata, IBlobStore blobs, ContentLocks locks)
{
    /// <summary>ACR copies at most 50 manifests per image; referrers come on top, bounded as a whole against a hostile source.</summary>
    public const int MaxIndexManifests = 50;
    public const int MaxManifests = 500;

    public async Task<ImportResult> ImportAsync(IImageSource source, ImportRequest request, CancellationToken cancellationToken)
    {
        var top = await source.GetManifestAsync(request.SourceRepository, request.SourceReference, cancellationToken);
        await EnsureTagsMayMoveAsync(request, top.Digest, cancellationToken);
        var graph = await CollectAsync(source, request.SourceRepository, top, cancellationToken);

        var progress = new Progress();
        try
        {
            foreach (var repository in request.Targets.Select(t => t.Repository).Distinct(StringComparer.Ordinal))
            {
                var target = new RepositoryKey(request.Registry, repository);
                foreach (var node in graph) await CopyAsync(source, request.SourceRepository, node, target, progress, cancellationToken);
                foreach (var tag in request.Targets.Where(t => t.Repository == repository && t.Tag is not null).Select(t => t.Tag!))
                    await manifests.PutAsync(target, new Reference(tag, null), top.MediaType, top.Content, request: null, cancellationToken);
            }
        }
        catch
        {
            await UndoAsync(progress);
            throw;
        }
        return new ImportResult(top.Digest, graph.Count, progress.BlobsCopied, progress.BlobsMounted, progress.BytesCopied);
    }

    /// <summary>NoForce, checked before anything is copied: a target tag that holds other content stays where it is.</summary>
    private async Task EnsureTagsMayMoveAsync(ImportRequest request, Digest digest, CancellationToken cancellationToken)
    {
        if (request.Mode == ImportMode.Force) return;
        foreach (var target in request.Targets.Where(t => t.Tag is not null))
        {
            var current = await metadata.GetTagOrNullAsync(new RepositoryKey(request.Registry, target.Repository), target.Tag!, cancellationToken);
            if (current is not null && current != digest)
                throw new ImportException("Conflict", $"Tag {target.Repository}:{target.Tag} already exists in target registry.");
        }
    }

    private sealed record Node(FetchedManifest Manifest, ParsedManifest Parsed);

    /// <summary>The image's manifests in the order they can be written: children before their index, then referrers (and theirs).</summary>
    private static async Task<List<Node>> CollectAsync(IImageSource source, string repository, FetchedManifest top, CancellationToken cancellationToken)
    {
        var ordered = new List<Node>();
        var seen = new HashSet<Digest>();

        async Task AddAsync(FetchedManifest manifest)
        {
            if (!seen.Add(manifest.Digest)) return;
            if (seen.Count > MaxManifests)
                throw new ImportException("InvalidParameter", $"the image in {source.Name}/{repository} has more than {MaxManifests} manifests with its referrers; Berth imports at most that many");
            ParsedManifest parsed;
            try
            {
                parsed = ManifestParser.Parse(manifest.Content, manifest.MediaType);
            }
            catch (OciException error)
            {
                throw new ImportException("InvalidManifest", $"the manifest {manifest.Digest} of {source.Name}/{repository} cannot be imported: {error.Message}");
            }
            if (parsed.Manifests.Count > MaxIndexManifests)
                throw new ImportException("InvalidParameter", $"the index {manifest.Digest} of {source.Name}/{repository} lists {parsed.Manifests.Count} manifests; ACR imports at most {MaxIndexManifests}");
            foreach (var child in parsed.Manifests)
                await AddAsync(await source.GetManifestAsync(repository, new Reference(null, child.Digest), cancellationToken));
            ordered.Add(new Node(manifest, parsed));
        }

        await AddAsync(top);
        for (var i = 0; i < ordered.Count; i++)
        {
            foreach (var referrer in await source.ListReferrersAsync(repository, ordered[i].Manifest.Digest, cancellationToken))
            {
                if (!seen.Contains(referrer))
                    await AddAsync(await source.GetManifestAsync(repository, new Reference(null, referrer), cancellationToken));
            }
        }
        return ordered;
    }

    private async Task CopyAsync(IImageSource source, string sourceRepository, Node node, RepositoryKey target, Progress progress, CancellationToken cancellationToken)
    {
        var blobDescriptors = node.Parsed.Layers.Where(l => !ManifestService.IsExternalLayer(l.MediaType)).ToList();
        if (node.Parsed.Config is { } config) blobDescriptors.Insert(0, config);
        foreach (var blob in blobDescriptors.DistinctBy(b => b.Digest))
        {
            if (await metadata.GetLinkedBlobSizeOrNullAsync(target, blob.Digest, cancellationToken) is not null) continue;
            if (progress.Verified.Contains(blob.Digest))
            {
                // Brought (and verified) for another target repository of this import: link the same bytes.
                await locks.EnsureRepositoryWritableAsync(target, cancellationToken);
                if (!await BlobLinking.TryLinkAsync(metadata, blobs, target, blob.Digest, blob.Size, cancellationToken))
                    throw new ImportException("NotFound", $"the blob {blob.Digest} was removed by garbage collection while it was being imported");
                progress.BlobsMounted++;
            }
            else if (await source.TransferBlobAsync(sourceRepository, blob, target, cancellationToken) == BlobTransfer.Copied)
            {
                progress.BlobsCopied++;
                progress.BytesCopied += blob.Size;
            }
            else
            {
                progress.BlobsMounted++;
            }
            progress.Verified.Add(blob.Digest);
            progress.Links.Add((target, blob.Digest));
        }

        var digest = node.Manifest.Digest;
        if ((await metadata.FindMissingManifestsAsync(target, [digest], cancellationToken)).Count == 0) return;
        try
        {
            await manifests.PutAsync(target, new Reference(null, digest), node.Manifest.MediaType, node.Manifest.Content, request: null, cancellationToken);
        }
        catch (OciException error) when (error.Code is OciErrorCode.ManifestInvalid or OciErrorCode.ManifestBlobUnknown)
        {
            throw new ImportException("InvalidManifest", $"the manifest {digest} of {source.Name}/{sourceRepository} cannot be imported: {error.Message}");
        }
        progress.Manifests.Add((target, digest));
    }

    /// <summary>Removes the manifests and blob links a failed import added, newest first (tags are written last, after every copy).</summary>
    private async Task UndoAsync(Progress progress)
    {
        foreach (var (repository, digest) in Enumerable.Reverse(progress.Manifests))
            await metadata.DeleteManifestAsync(repository, digest, softDelete: false, request: null, CancellationToken.None);
        foreach (var (repository, digest) in Enumerable.Reverse(progress.Links))
            await metadata.UnlinkBlobAsync(repository, digest, CancellationToken.None);
    }

    private sealed class Progress
    {
        public HashSet<Digest> Verified { get; } = [];
        public List<(RepositoryKey Repository, Digest Digest)> Links { get; } = [];
        public List<(RepositoryKey Repository, Digest Digest)> Manifests { get; } = [];
        public int BlobsCopied { get; set; }
        public int BlobsMounted { get; set; }
        public long BytesCopied { get; set; }
    }
}
