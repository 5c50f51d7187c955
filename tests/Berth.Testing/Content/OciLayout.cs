using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Berth.Testing;

/// <summary>The OCI image media types the layouts and manifests here use (named apart from Berth.Oci.MediaTypes, the server's own list).</summary>
public static class OciMediaTypes
{
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageIndex = "application/vnd.oci.image.index.v1+json";
    public const string ImageConfig = "application/vnd.oci.image.config.v1+json";
    public const string LayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string Empty = "application/vnd.oci.empty.v1+json";
}

/// <summary>A content descriptor; the JSON it writes is the exact form the OCI image spec defines.</summary>
public sealed record Descriptor(string MediaType, string Digest, long Size)
{
    public string? ArtifactType { get; init; }
    public (string Os, string Architecture)? Platform { get; init; }
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>The empty JSON blob `{}` the image spec prescribes as the config of artifacts.</summary>
    public static readonly Descriptor EmptyConfig =
        new(OciMediaTypes.Empty, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", 2);

    public JsonObject ToJson()
    {
        var json = new JsonObject { ["mediaType"] = MediaType, ["digest"] = Digest, ["size"] = Size };
        if (ArtifactType is not null) json["artifactType"] = ArtifactType;
        if (Platform is { } platform) json["platform"] = new JsonObject { ["architecture"] = platform.Architecture, ["os"] = platform.Os };
        if (Annotations is not null) json["annotations"] = new JsonObject(Annotations.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)JsonValue.Create(a.Value))));
        return json;
    }
}

/// <summary>
/// Writes an OCI image layout (oci-layout, index.json, blobs/sha256/...) by hand, so the tests know every
/// byte that goes into the registry and can demand the same bytes back.
/// </summary>
public sealed class OciLayoutBuilder
{
    private readonly List<JsonObject> _references = [];

    public OciLayoutBuilder(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
    }

    public string Directory { get; }

    public Descriptor AddBlob(byte[] content, string mediaType)
    {
        var digest = Sha256Digest(content);
        File.WriteAllBytes(Path.Combine(Directory, "blobs", "sha256", digest["sha256:".Length..]), content);
        return new Descriptor(mediaType, digest, content.Length);
    }

    /// <summary>A gzip-compressed tar layer holding one file of random bytes, with its config, as one platform image.</summary>
    public Descriptor AddRandomImage(string os, string architecture, int payloadBytes)
    {
        var (layer, diffId) = RandomLayer($"payload-{architecture}.bin", payloadBytes);
        var layerDescriptor = AddBlob(layer, OciMediaTypes.LayerGzip);
        var config = new JsonObject
        {
            ["architecture"] = architecture,
            ["os"] = os,
            ["config"] = new JsonObject(),
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(diffId) },
        };
        var configDescriptor = AddBlob(Encoding.UTF8.GetBytes(config.ToJsonString()), OciMediaTypes.ImageConfig);
        return AddImageManifest(configDescriptor, [layerDescriptor]) with { Platform = (os, architecture) };
    }

    public Descriptor AddImageManifest(Descriptor config, IReadOnlyList<Descriptor> layers, string? artifactType = null, Descriptor? subject = null)
    {
        var manifest = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = OciMediaTypes.ImageManifest };
        if (artifactType is not null) manifest["artifactType"] = artifactType;
        manifest["config"] = config.ToJson();
        manifest["layers"] = new JsonArray([.. layers.Select(l => (JsonNode)l.ToJson())]);
        if (subject is not null) manifest["subject"] = subject.ToJson();
        return AddBlob(Encoding.UTF8.GetBytes(manifest.ToJsonString()), OciMediaTypes.ImageManifest) with { ArtifactType = artifactType };
    }

    public Descriptor AddImageIndex(IReadOnlyList<Descriptor> manifests)
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciMediaTypes.ImageIndex,
            ["manifests"] = new JsonArray([.. manifests.Select(m => (JsonNode)m.ToJson())]),
        };
        return AddBlob(Encoding.UTF8.GetBytes(index.ToJsonString()), OciMediaTypes.ImageIndex);
    }

    /// <summary>Names a manifest or index in index.json so tools can address it as <c>oci:dir:tag</c>.</summary>
    public OciLayoutBuilder Tag(Descriptor descriptor, string tag)
    {
        var reference = descriptor with
        {
            Platform = null,
            Annotations = new Dictionary<string, string> { ["org.opencontainers.image.ref.name"] = tag },
        };
        _references.Add(reference.ToJson());
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray([.. _references.Select(r => r.DeepClone())]),
        };
        File.WriteAllText(Path.Combine(Directory, "index.json"), index.ToJsonString());
        return this;
    }

    public static (byte[] GzipTar, string DiffId) RandomLayer(string fileName, int payloadBytes)
    {
        var payload = RandomNumberGenerator.GetBytes(payloadBytes);
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, fileName)
            {
                DataStream = new MemoryStream(payload),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                ModificationTime = DateTimeOffset.UnixEpoch,
            };
            writer.WriteEntry(entry);
        }
        var tarBytes = tar.ToArray();
        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tarBytes);
        }
        return (gz.ToArray(), Sha256Digest(tarBytes));
    }

    public static string Sha256Digest(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
}

/// <summary>Reads what a tool wrote into an OCI image layout.</summary>
public static class OciLayout
{
    /// <summary>Every blob file, keyed by digest ("sha256:...").</summary>
    public static IReadOnlyDictionary<string, byte[]> ReadBlobs(string directory)
    {
        var blobs = new Dictionary<string, byte[]>();
        var root = Path.Combine(directory, "blobs");
        foreach (var algorithmDirectory in System.IO.Directory.EnumerateDirectories(root))
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(algorithmDirectory))
            {
                blobs.Add($"{Path.GetFileName(algorithmDirectory)}:{Path.GetFileName(file)}", File.ReadAllBytes(file));
            }
        }
        return blobs;
    }

    /// <summary>The descriptor index.json records under the given ref name.</summary>
    public static JsonObject FindReference(string directory, string tag)
    {
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "index.json")))!.AsObject();
        foreach (var manifest in index["manifests"]!.AsArray())
        {
            if (manifest!["annotations"]?["org.opencontainers.image.ref.name"]?.GetValue<string>() == tag)
            {
                return manifest.AsObject();
            }
        }
        throw new InvalidOperationException($"{directory}/index.json has no reference named {tag}:\n{index.ToJsonString(new JsonSerializerOptions { WriteIndented = true })}");
    }

    /// <summary>
    /// Asserts that the output layout holds exactly the input's blobs, each with the same bytes, and that
    /// every blob's content hashes to its name (so "same digests" is checked, not assumed).
    /// </summary>
    public static void AssertSameBlobs(string expectedLayout, string actualLayout)
    {
        var expected = ReadBlobs(expectedLayout);
        var actual = ReadBlobs(actualLayout);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (digest, bytes) in actual)
        {
            Assert.Equal(digest, OciLayoutBuilder.Sha256Digest(bytes));
            Assert.True(expected[digest].AsSpan().SequenceEqual(bytes), $"blob {digest} differs from the input");
        }
    }
}
