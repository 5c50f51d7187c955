using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Berth.Conformance.Tests.TestSupport;

/// <summary>Builds manifests as clients write them: compact JSON, the bytes are what gets pushed.</summary>
public static class Manifests
{
    public static JsonObject Descriptor(
        string mediaType, Content content, string? artifactType = null,
        IReadOnlyDictionary<string, string>? annotations = null, JsonObject? platform = null)
    {
        var descriptor = new JsonObject
        {
            ["mediaType"] = mediaType,
            ["digest"] = content.Digest,
            ["size"] = content.Size,
        };
        if (artifactType is not null) descriptor["artifactType"] = artifactType;
        if (annotations is not null) descriptor["annotations"] = Annotations(annotations);
        if (platform is not null) descriptor["platform"] = platform.DeepClone();
        return descriptor;
    }

    /// <summary>The OCI empty descriptor (<c>{}</c>, 2 bytes), the config of artifacts without one.</summary>
    public static readonly Content EmptyConfig = Content.Of("{}");

    public static JsonObject Platform(string os, string architecture) =>
        new() { ["architecture"] = architecture, ["os"] = os };

    public static Content OciImage(
        JsonObject config, IEnumerable<JsonObject> layers, JsonObject? subject = null, string? artifactType = null,
        IReadOnlyDictionary<string, string>? annotations = null, bool includeMediaType = true)
    {
        var manifest = new JsonObject { ["schemaVersion"] = 2 };
        if (includeMediaType) manifest["mediaType"] = MediaTypes.OciManifest;
        if (artifactType is not null) manifest["artifactType"] = artifactType;
        manifest["config"] = config.DeepClone();
        manifest["layers"] = new JsonArray(layers.Select(l => l.DeepClone()).ToArray());
        if (subject is not null) manifest["subject"] = subject.DeepClone();
        if (annotations is not null) manifest["annotations"] = Annotations(annotations);
        return Serialize(manifest);
    }

    public static Content OciIndex(
        IEnumerable<JsonObject> manifests, JsonObject? subject = null, string? artifactType = null,
        IReadOnlyDictionary<string, string>? annotations = null)
    {
        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = MediaTypes.OciIndex };
        if (artifactType is not null) index["artifactType"] = artifactType;
        index["manifests"] = new JsonArray(manifests.Select(m => m.DeepClone()).ToArray());
        if (subject is not null) index["subject"] = subject.DeepClone();
        if (annotations is not null) index["annotations"] = Annotations(annotations);
        return Serialize(index);
    }

    public static Content DockerImage(JsonObject config, IEnumerable<JsonObject> layers) => Serialize(new JsonObject
    {
        ["schemaVersion"] = 2,
        ["mediaType"] = MediaTypes.DockerManifest,
        ["config"] = config.DeepClone(),
        ["layers"] = new JsonArray(layers.Select(l => l.DeepClone()).ToArray()),
    });

    public static Content DockerList(IEnumerable<JsonObject> manifests) => Serialize(new JsonObject
    {
        ["schemaVersion"] = 2,
        ["mediaType"] = MediaTypes.DockerManifestList,
        ["manifests"] = new JsonArray(manifests.Select(m => m.DeepClone()).ToArray()),
    });

    /// <summary>A JSON document of <paramref name="size"/> bytes that is a valid OCI manifest padded by one annotation.</summary>
    public static Content PaddedOciImage(JsonObject config, int size)
    {
        var skeleton = OciImage(config, [], annotations: new Dictionary<string, string> { ["pad"] = "" });
        var padding = size - skeleton.Bytes.Length;
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(size));
        var manifest = OciImage(config, [], annotations: new Dictionary<string, string> { ["pad"] = new string('x', padding) });
        return manifest;
    }

    /// <summary>Compact JSON without the default encoder's over-escaping (clients write <c>+</c>, not <c>\u002B</c>).</summary>
    public static Content Serialize(JsonNode node) => Content.Of(node.ToJsonString(JsonOptions));

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static JsonObject Annotations(IReadOnlyDictionary<string, string> annotations)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in annotations) obj[key] = value;
        return obj;
    }
}
