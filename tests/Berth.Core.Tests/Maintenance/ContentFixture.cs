using System.Text;
using System.Text.Json;
using Berth.Core.Content;
using Berth.Core.Maintenance;
using Berth.Core.Registries;
using Berth.Core.Storage;
using Berth.Core.Tests.Identity;
using Berth.Metadata.Sql;
using Berth.Metadata.Sqlite;
using Berth.Oci;
using Berth.Storage.FileSystem;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Berth.Core.Tests.Maintenance;

/// <summary>
/// The real content stack (SQLite metadata, file-system blobs, the upload and manifest services) in a temporary
/// folder, with a clock the test moves. Both providers read the same clock, so link ages and blob times agree.
/// </summary>
internal sealed class ContentFixture : IDisposable
{
    public const string RegistryName = "myregistry";
    private readonly TempFolder _folder = new();

    public ContentFixture(Action<GarbageCollectionOptions>? configure = null)
    {
        Options.GracePeriod = TimeSpan.FromHours(1);
        Options.UploadExpiry = TimeSpan.FromMinutes(90);
        Options.DeleteUntaggedManifests = true;
        configure?.Invoke(Options);
        Database = new SqliteDatabase(Path.Combine(_folder.Path, "metadata", "berth.db"));
        Metadata = new SqlMetadataStore(Database, Time);
        Registries = new SqlRegistryStore(Database);
        Blobs = new FileSystemBlobStore(Path.Combine(_folder.Path, "storage"), Path.Combine(_folder.Path, "quarantine"), Time);
        Details = new SqlRepositoryDetailsStore(Database, Time);
        Deleted = new SqlDeletedContentStore(Database, Time);
        var locks = new ContentLocks(Details);
        Uploads = new UploadService(Blobs, Metadata, locks, Time);
        Manifests = new ManifestService(Metadata, locks, Time);
        Collector = new GarbageCollector(Metadata, Blobs, Registries, Deleted, Microsoft.Extensions.Options.Options.Create(Options), Time, NullLogger<GarbageCollector>.Instance);
        Checker = new IntegrityChecker(Metadata, Blobs, Registries, NullLogger<IntegrityChecker>.Instance);
        CreateRegistry(RegistryName);
    }

    /// <summary>Starts at the real time, so that files written by the test are not from the clock's future.</summary>
    public SharedClock Time { get; } = new(DateTimeOffset.UtcNow);
    public GarbageCollectionOptions Options { get; } = new();
    public SqliteDatabase Database { get; }
    public IMetadataStore Metadata { get; }
    public IRegistryStore Registries { get; }
    public IRepositoryDetailsStore Details { get; }
    public IDeletedContentStore Deleted { get; }
    public IBlobStore Blobs { get; }
    public UploadService Uploads { get; }
    public ManifestService Manifests { get; }
    public GarbageCollector Collector { get; }
    public IntegrityChecker Checker { get; }
    public string FolderPath => _folder.Path;
    public string BlobRoot => Path.Combine(_folder.Path, "storage", "blobs");

    public void CreateRegistry(string name) =>
        Registries.CreateAsync(new Registry(name, $"{name}.localhost", RegistrySku.Standard, false, "sub", "rg", "local", Time.GetUtcNow(), 1), default).GetAwaiter().GetResult();

    public static RepositoryKey Repo(string name, string registry = RegistryName) => new(registry, name);

    public async Task<Descriptor> PushBlobAsync(RepositoryKey repository, byte[] content, string mediaType = "application/vnd.oci.image.layer.v1.tar")
    {
        var digest = Digest.Compute(content);
        var session = await Uploads.StartAsync(repository, default);
        await Uploads.FinishAsync(repository, session.Id, digest, new MemoryStream(content), new ChunkRange(null, null, null), default);
        return new Descriptor(mediaType, digest, content.Length);
    }

    public Task<Descriptor> PushBlobAsync(RepositoryKey repository, string text, string mediaType = "application/vnd.oci.image.layer.v1.tar") =>
        PushBlobAsync(repository, Encoding.UTF8.GetBytes(text), mediaType);

    /// <summary>Pushes config and layers (with the given texts) and then the image manifest.</summary>
    public async Task<Digest> PushImageAsync(RepositoryKey repository, string? tag, string config, params string[] layers)
    {
        var configDescriptor = await PushBlobAsync(repository, config, "application/vnd.oci.image.config.v1+json");
        var layerDescriptors = new List<Descriptor>();
        foreach (var layer in layers) layerDescriptors.Add(await PushBlobAsync(repository, layer));
        return await PushManifestAsync(repository, tag, ImageManifest(configDescriptor, layerDescriptors));
    }

    public async Task<Digest> PushManifestAsync(RepositoryKey repository, string? tag, byte[] manifest)
    {
        var reference = tag is null ? new Reference(null, Digest.Compute(manifest)) : new Reference(tag, null);
        var pushed = await Manifests.PutAsync(repository, reference, null, manifest, null, default);
        return pushed.Digest;
    }

    public static byte[] ImageManifest(Descriptor config, IEnumerable<Descriptor> layers, Descriptor? subject = null, string? artifactType = null) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["artifactType"] = artifactType,
            ["config"] = Json(config),
            ["layers"] = layers.Select(Json).ToList(),
            ["subject"] = subject is null ? null : Json(subject),
        }.Where(p => p.Value is not null).ToDictionary());

    public static byte[] Index(params Descriptor[] manifests) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.index.v1+json",
            ["manifests"] = manifests.Select(Json).ToList(),
        });

    private static Dictionary<string, object> Json(Descriptor d) => new() { ["mediaType"] = d.MediaType, ["digest"] = d.Digest.ToString(), ["size"] = d.Size };

    public async Task<bool> BlobBytesExistAsync(Digest digest) => await Blobs.GetSizeOrNullAsync(digest, default) is not null;

    public async Task<bool> LinkedAsync(RepositoryKey repository, Digest digest) => await Metadata.GetLinkedBlobSizeOrNullAsync(repository, digest, default) is not null;

    public async Task<bool> ManifestExistsAsync(RepositoryKey repository, Digest digest) => await Metadata.GetManifestOrNullAsync(repository, digest, default) is not null;

    public void Dispose()
    {
        _folder.Dispose();
    }
}

/// <summary>A clock the test moves by hand, safe to read while another thread moves it.</summary>
internal sealed class SharedClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

internal sealed record Descriptor(string MediaType, Digest Digest, long Size)
{
    public static Descriptor Of(byte[] manifest, string mediaType = "application/vnd.oci.image.manifest.v1+json") => new(mediaType, Digest.Compute(manifest), manifest.Length);
}
