using System.Text;
using System.Text.Json.Nodes;

namespace Berth.ScaleOut.Tests.Infrastructure;

/// <summary>An image of several random layers written as an OCI layout, with every blob's bytes kept for comparison.</summary>
public sealed class MultiLayerImage
{
    private MultiLayerImage(string layoutDirectory, string tag, Descriptor config, IReadOnlyList<Descriptor> layers, Descriptor manifest, IReadOnlyDictionary<string, byte[]> blobs)
    {
        LayoutDirectory = layoutDirectory;
        Tag = tag;
        Config = config;
        Layers = layers;
        Manifest = manifest;
        Blobs = blobs;
    }

    public string LayoutDirectory { get; }

    public string Tag { get; }

    /// <summary><c>oci:DIR:TAG</c>, the skopeo source or destination.</summary>
    public string OciReference => $"oci:{LayoutDirectory}:{Tag}";

    public Descriptor Config { get; }

    public IReadOnlyList<Descriptor> Layers { get; }

    public Descriptor Manifest { get; }

    /// <summary>Every blob of the image (layers, config, manifest) by digest.</summary>
    public IReadOnlyDictionary<string, byte[]> Blobs { get; }

    public static MultiLayerImage Create(string layoutDirectory, string tag, params int[] layerPayloadSizes)
    {
        var builder = new OciLayoutBuilder(layoutDirectory);
        var blobs = new Dictionary<string, byte[]>();
        var layers = new List<Descriptor>();
        var diffIds = new JsonArray();
        for (var i = 0; i < layerPayloadSizes.Length; i++)
        {
            var (layer, diffId) = OciLayoutBuilder.RandomLayer($"layer-{i}.bin", layerPayloadSizes[i]);
            var descriptor = builder.AddBlob(layer, OciMediaTypes.LayerGzip);
            blobs[descriptor.Digest] = layer;
            layers.Add(descriptor);
            diffIds.Add(diffId);
        }
        var configJson = new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject(),
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
        };
        var configBytes = Encoding.UTF8.GetBytes(configJson.ToJsonString());
        var config = builder.AddBlob(configBytes, OciMediaTypes.ImageConfig);
        blobs[config.Digest] = configBytes;
        var manifest = builder.AddImageManifest(config, layers);
        blobs[manifest.Digest] = File.ReadAllBytes(Path.Combine(layoutDirectory, "blobs", "sha256", manifest.Digest["sha256:".Length..]));
        builder.Tag(manifest, tag);
        return new MultiLayerImage(layoutDirectory, tag, config, layers, manifest, blobs);
    }
}
