using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Berth.Core.Maintenance;

/// <summary>Kinds of problem fsck reports; the report and the CLI print them in kebab case (<c>corrupt-blob</c>).</summary>
public enum IntegrityProblemKind
{
    /// <summary>A blob whose bytes do not hash to its name.</summary>
    CorruptBlob,

    /// <summary>A file in the blob area whose name is not a digest in its right place.</summary>
    MisplacedBlob,

    /// <summary>A repository links a blob whose bytes are missing.</summary>
    MissingBlob,

    /// <summary>A link's recorded size differs from the stored bytes.</summary>
    SizeMismatch,

    /// <summary>A manifest references a blob its repository does not link.</summary>
    UnlinkedReference,

    /// <summary>An index references a manifest its repository does not hold.</summary>
    MissingManifest,

    /// <summary>A manifest's stored bytes do not hash to its digest.</summary>
    CorruptManifest,
}

public sealed record IntegrityProblem(IntegrityProblemKind Kind, string Subject, string Detail, string? QuarantinedTo = null);

public sealed record IntegrityReport(
    int BlobsChecked,
    long BytesChecked,
    int ManifestsChecked,
    int BlobLinksChecked,
    double DurationSeconds,
    IReadOnlyList<IntegrityProblem> Problems)
{
    public bool Healthy => Problems.Count == 0;
}

/// <summary>
/// fsck: re-hashes every stored blob and every manifest, and cross-checks metadata against the blob store. With
/// quarantine on, corrupt and misplaced blob files are moved out of the content store (never deleted) so they stop
/// being served; the links that pointed at them are then reported as missing bytes until the blob is pushed again.
/// </summary>
public sealed partial class IntegrityChecker(IMetadataStore metadata, IBlobStore blobs, IRegistryStore registries, ILogger<IntegrityChecker> logger)
{
    private const int BufferSize = 1 << 20;
    private const int PageSize = 500;

    public async Task<IntegrityReport> CheckAsync(bool quarantine, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var problems = new List<IntegrityProblem>();
        var sizes = new Dictionary<Digest, long>();
        int blobCount = 0, manifestCount = 0, linkCount = 0;
        long bytes = 0;

        await foreach (var blob in blobs.ListBlobsAsync(cancellationToken))
        {
            blobCount++;
            bytes += blob.Size;
            if (blob.Digest is not { } digest)
            {
                problems.Add(await ProblemAsync(IntegrityProblemKind.MisplacedBlob, blob.Name,
                    "the file's name is not a digest in the place that digest is stored", quarantine, blob.Name, cancellationToken));
                continue;
            }
            var actual = await HashOrNullAsync(digest, cancellationToken);
            if (actual is null) continue; // removed while checking
            if (actual != digest)
            {
                problems.Add(await ProblemAsync(IntegrityProblemKind.CorruptBlob, digest.ToString(),
                    $"the stored bytes hash to {actual}", quarantine, blob.Name, cancellationToken));
                continue;
            }
            sizes[digest] = blob.Size;
        }

        foreach (var registry in await registries.ListAsync(cancellationToken))
        {
            string? last = null;
            while (true)
            {
                var page = await metadata.ListRepositoriesAsync(registry.Name, PageSize, last, cancellationToken);
                foreach (var name in page)
                {
                    var repository = new RepositoryKey(registry.Name, name);
                    var content = await metadata.GetRepositoryContentAsync(repository, cancellationToken);
                    var links = content.BlobLinks.ToDictionary(l => l.Digest);
                    var manifests = content.Manifests.Select(m => m.Digest).ToHashSet();
                    foreach (var link in content.BlobLinks)
                    {
                        linkCount++;
                        if (!sizes.TryGetValue(link.Digest, out var size))
                            problems.Add(new(IntegrityProblemKind.MissingBlob, $"{repository}@{link.Digest}", "the repository links the blob but its bytes are missing or corrupt"));
                        else if (size != link.Size)
                            problems.Add(new(IntegrityProblemKind.SizeMismatch, $"{repository}@{link.Digest}", $"the link records {link.Size} bytes, the store holds {size}"));
                    }
                    foreach (var manifest in content.Manifests)
                    {
                        manifestCount++;
                        foreach (var blob in manifest.BlobReferences.Where(b => !links.ContainsKey(b)))
                            problems.Add(new(IntegrityProblemKind.UnlinkedReference, $"{repository}@{manifest.Digest}", $"references blob {blob}, which the repository does not link"));
                        foreach (var child in manifest.ManifestReferences.Where(c => !manifests.Contains(c)))
                            problems.Add(new(IntegrityProblemKind.MissingManifest, $"{repository}@{manifest.Digest}", $"references manifest {child}, which the repository does not hold"));
                        var stored = await metadata.GetManifestOrNullAsync(repository, manifest.Digest, cancellationToken);
                        if (stored is not null && Digest.Compute(stored.Content, manifest.Digest.Algorithm) is var computed && computed != manifest.Digest)
                            problems.Add(new(IntegrityProblemKind.CorruptManifest, $"{repository}@{manifest.Digest}", $"the stored manifest bytes hash to {computed}"));
                    }
                }
                if (page.Count < PageSize) break;
                last = page[^1];
            }
        }

        var report = new IntegrityReport(blobCount, bytes, manifestCount, linkCount, Stopwatch.GetElapsedTime(started).TotalSeconds, problems);
        LogChecked(logger, blobCount, bytes, manifestCount, linkCount, problems.Count);
        return report;
    }

    private async Task<IntegrityProblem> ProblemAsync(IntegrityProblemKind kind, string subject, string detail, bool quarantine, string name, CancellationToken cancellationToken)
    {
        if (!quarantine) return new(kind, subject, detail);
        var target = await blobs.QuarantineAsync(name, cancellationToken);
        if (target is not null) LogQuarantined(logger, name, target);
        return new(kind, subject, detail, target);
    }

    private async Task<Digest?> HashOrNullAsync(Digest digest, CancellationToken cancellationToken)
    {
        using var content = await blobs.OpenOrNullAsync(digest, cancellationToken);
        if (content is null) return null;
        using var hasher = Digest.CreateHasher(digest.Algorithm);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = await content.Stream.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken)) > 0) hasher.AppendData(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return Digest.FromHash(digest.Algorithm, hasher.GetHashAndReset());
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Integrity check: {Blobs} blobs ({Bytes} bytes), {Manifests} manifests, {Links} blob links checked; {Problems} problem(s)")]
    private static partial void LogChecked(ILogger logger, int blobs, long bytes, int manifests, int links, int problems);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Integrity check: moved {Name} to quarantine at {Target}")]
    private static partial void LogQuarantined(ILogger logger, string name, string target);
}
