using System.Text.Json;

namespace Berth.Oci;

public sealed record Descriptor(string MediaType, Digest Digest, long Size, string? ArtifactType, IReadOnlyDictionary<string, string>? Annotations);

/// <summary>
/// What the registry needs to know about a pushed manifest. The pushed bytes stay the source of truth:
/// this is read from them, never written back.
/// </summary>
public sealed record ParsedManifest(
    string MediaType,
    string? ArtifactType,
    Descriptor? Config,
    IReadOnlyList<Descriptor> Layers,
    IReadOnlyList<Descriptor> Manifests,
    Descriptor? Subject,
    IReadOnlyDictionary<string, string>? Annotations)
{
    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    /// <summary>The artifact type the referrers API reports (image spec: artifactType, else config media type).</summary>
    public string? EffectiveArtifactType => ArtifactType ?? (IsIndex ? null : Config?.MediaType);
}

public static class ManifestParser
{
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Parses and validates a manifest. <paramref name="contentType"/> is the request's Content-Type; when the
    /// body names a mediaType too, the two must agree (image spec: the field is reserved for exactly that check).
    /// </summary>
    public static ParsedManifest Parse(ReadOnlySpan<byte> content, string? contentType)
    {
        if (content.Length > MaxManifestBytes)
            throw new OciException(OciErrorCode.SizeInvalid, $"manifest is {content.Length} bytes; the limit is {MaxManifestBytes}", status: 413);

        JsonDocument document;
        try
        {
            JsonText.EnsureValidStrings(content, maxDepth: 64);
            document = JsonDocument.Parse(content.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw Invalid($"manifest is not valid JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Invalid("manifest must be a JSON object");

            var declared = OptionalString(root, "mediaType");
            var requested = NormalizeContentType(contentType);
            if (requested is not null && MediaTypes.IsSchema1(requested) || declared is not null && MediaTypes.IsSchema1(declared)
                || root.TryGetProperty("schemaVersion", out var sv) && sv.ValueKind == JsonValueKind.Number && sv.TryGetInt32(out var v1) && v1 == 1)
            {
                throw new OciException(OciErrorCode.ManifestInvalid,
                    "Docker image manifest schema 1 is deprecated and not supported; push with schema 2 or OCI (e.g. a current docker, podman or skopeo)",
                    status: 400);
            }

            var mediaType = ResolveMediaType(requested, declared, root);
            if (!root.TryGetProperty("schemaVersion", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out var v2) || v2 != 2)
                throw Invalid("schemaVersion must be 2");

            var artifactType = OptionalString(root, "artifactType");
            var subject = root.TryGetProperty("subject", out var s) && s.ValueKind != JsonValueKind.Null ? ReadDescriptor(s, "subject") : null;
            var annotations = ReadAnnotations(root);

            if (MediaTypes.IsIndex(mediaType))
            {
                if (!root.TryGetProperty("manifests", out var manifests) || manifests.ValueKind != JsonValueKind.Array)
                    throw Invalid("an index needs a \"manifests\" array");
                var children = manifests.EnumerateArray().Select((m, i) => ReadDescriptor(m, $"manifests[{i}]")).ToList();
                return new ParsedManifest(mediaType, artifactType, null, [], children, subject, annotations);
            }

            if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
                throw Invalid("an image manifest needs a \"config\" descriptor");
            var configDescriptor = ReadDescriptor(config, "config");
            if (configDescriptor.MediaType == MediaTypes.OciEmpty && artifactType is null && mediaType == MediaTypes.OciManifest)
                throw Invalid("artifactType is required when config.mediaType is application/vnd.oci.empty.v1+json");

            var layers = new List<Descriptor>();
            if (root.TryGetProperty("layers", out var layerArray))
            {
                if (layerArray.ValueKind != JsonValueKind.Array) throw Invalid("\"layers\" must be an array");
                layers.AddRange(layerArray.EnumerateArray().Select((l, i) => ReadDescriptor(l, $"layers[{i}]")));
            }
            else if (mediaType == MediaTypes.DockerManifest)
            {
                throw Invalid("a Docker schema 2 manifest needs a \"layers\" array");
            }
            return new ParsedManifest(mediaType, artifactType, configDescriptor, layers, [], subject, annotations);
        }
    }

    /// <summary>Strips parameters (e.g. "; charset=utf-8") and whitespace from a Content-Type value.</summary>
    public static string? NormalizeContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return null;
        var semicolon = contentType.IndexOf(';');
        var bare = (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim().ToLowerInvariant();
        return bare.Length == 0 ? null : bare;
    }

    private static string ResolveMediaType(string? requested, string? declared, JsonElement root)
    {
        // A generic content type is acceptable only for a body that does not declare its own type; when the body
        // does, the Content-Type must be exactly that (image spec: mediaType exists for this check).
        if (requested is not null && declared is not null && requested != declared)
            throw Invalid($"Content-Type \"{requested}\" does not match the manifest's mediaType \"{declared}\"");

        if (requested is "application/json" or "application/octet-stream") requested = null;
        var mediaType = requested ?? declared ?? (root.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex : MediaTypes.OciManifest);
        if (!MediaTypes.IsManifest(mediaType))
            throw Invalid($"unsupported manifest media type \"{mediaType}\"");
        return mediaType;
    }

    private static Descriptor ReadDescriptor(JsonElement element, string where)
    {
        if (element.ValueKind != JsonValueKind.Object) throw Invalid($"{where} must be a descriptor object");
        var mediaType = OptionalString(element, "mediaType") ?? throw Invalid($"{where}.mediaType is required");
        var digestText = OptionalString(element, "digest") ?? throw Invalid($"{where}.digest is required");
        if (!Digest.TryParse(digestText, out var digest)) throw Invalid($"{where}.digest \"{digestText}\" is not a valid digest");
        if (!element.TryGetProperty("size", out var sizeElement) || sizeElement.ValueKind != JsonValueKind.Number
            || !sizeElement.TryGetInt64(out var size) || size < 0)
            throw Invalid($"{where}.size must be a non-negative integer");
        return new Descriptor(mediaType, digest, size, OptionalString(element, "artifactType"), ReadAnnotations(element));
    }

    private static IReadOnlyDictionary<string, string>? ReadAnnotations(JsonElement element)
    {
        if (!element.TryGetProperty("annotations", out var annotations) || annotations.ValueKind == JsonValueKind.Null) return null;
        if (annotations.ValueKind != JsonValueKind.Object) throw Invalid("annotations must be an object of strings");
        var result = new Dictionary<string, string>();
        foreach (var property in annotations.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.String) throw Invalid($"annotation \"{property.Name}\" must be a string");
            result[property.Name] = property.Value.GetString()!;
        }
        return result;
    }

    private static string? OptionalString(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw Invalid($"\"{name}\" must be a string");
        return value.GetString();
    }

    private static OciException Invalid(string message) => new(OciErrorCode.ManifestInvalid, message);
}
