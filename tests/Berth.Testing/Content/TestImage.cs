using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Berth.Testing;

/// <summary>
/// A small, real, single-layer OCI image made by code: a gzip'd tar layer holding one random file, a config whose
/// <c>diff_ids</c> match the layer (podman checks them), and an image manifest. Every instance is unique.
/// </summary>
public sealed class TestImage
{
    public const string ManifestMediaType = "application/vnd.oci.image.manifest.v1+json";
    public const string ConfigMediaType = "application/vnd.oci.image.config.v1+json";
    public const string LayerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip";

    public byte[] Layer { get; }
    public string LayerDigest { get; }
    public byte[] Config { get; }
    public string ConfigDigest { get; }
    public byte[] Manifest { get; }
    public string ManifestDigest { get; }

    /// <summary>The random file inside the layer (<c>data/payload.bin</c>).</summary>
    public byte[] Payload { get; }

    public TestImage(int payloadSize = 4096, IReadOnlyDictionary<string, string>? annotations = null)
    {
        Payload = RandomNumberGenerator.GetBytes(payloadSize);
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "data/") { Mode = (UnixFileMode)0b111_101_101 });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/payload.bin") { DataStream = new MemoryStream(Payload), Mode = (UnixFileMode)0b110_100_100 });
        }
        var uncompressed = tar.ToArray();
        var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(uncompressed);
        Layer = gz.ToArray();
        LayerDigest = DigestOf(Layer);

        var config = new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Cmd"] = new JsonArray("/bin/true") },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(DigestOf(uncompressed)) },
        };
        Config = Encoding.UTF8.GetBytes(config.ToJsonString());
        ConfigDigest = DigestOf(Config);

        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = ManifestMediaType,
            ["config"] = Descriptor(ConfigMediaType, ConfigDigest, Config.Length),
            ["layers"] = new JsonArray(Descriptor(LayerMediaType, LayerDigest, Layer.Length)),
        };
        if (annotations is not null)
        {
            var a = new JsonObject();
            foreach (var (key, value) in annotations)
                a[key] = value;
            manifest["annotations"] = a;
        }
        Manifest = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        ManifestDigest = DigestOf(Manifest);
    }

    /// <summary>A manifest over the same config and layer, made distinct by an annotation (so it has a new digest).</summary>
    public byte[] VariantManifest(string marker)
    {
        var manifest = JsonNode.Parse(Manifest)!.AsObject();
        manifest["annotations"] = new JsonObject { ["org.example.variant"] = marker };
        return Encoding.UTF8.GetBytes(manifest.ToJsonString());
    }

    public static string DigestOf(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>
    /// Writes the image as an OCI image layout (<c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/*</c>) with
    /// <paramref name="tag"/> as its <c>org.opencontainers.image.ref.name</c>, for <c>skopeo copy oci:DIR:TAG</c>.
    /// </summary>
    public void WriteLayout(string directory, string tag)
    {
        var blobs = Path.Combine(directory, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        foreach (var (digest, bytes) in new[] { (LayerDigest, Layer), (ConfigDigest, Config), (ManifestDigest, Manifest) })
            File.WriteAllBytes(Path.Combine(blobs, digest["sha256:".Length..]), bytes);
        var descriptor = Descriptor(ManifestMediaType, ManifestDigest, Manifest.Length);
        descriptor["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = tag };
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.index.v1+json",
            ["manifests"] = new JsonArray(descriptor),
        };
        File.WriteAllText(Path.Combine(directory, "index.json"), index.ToJsonString());
    }

    public static JsonObject Descriptor(string mediaType, string digest, long size) =>
        new() { ["mediaType"] = mediaType, ["digest"] = digest, ["size"] = size };
}
