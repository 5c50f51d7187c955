using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Berth.Testing;

/// <summary>
/// A multi-platform image made by code: an OCI index over two <see cref="TestImage"/>s (linux/amd64 and linux/arm64),
/// and a referrer (an SBOM-like artifact whose subject is the index) with its own config and layer. Every manifest and
/// blob is kept by digest in <see cref="Content"/>, so a copy can be compared byte for byte.
/// </summary>
public sealed class MultiPlatformImage
{
    public const string IndexMediaType = "application/vnd.oci.image.index.v1+json";
    public const string ReferrerArtifactType = "application/vnd.example.sbom.v1+json";

    public TestImage Amd64 { get; } = new();
    public TestImage Arm64 { get; } = new();
    public byte[] Index { get; }
    public string IndexDigest { get; }
    public byte[] Referrer { get; }
    public string ReferrerDigest { get; }
    private readonly byte[] _referrerConfig = "{}"u8.ToArray();
    private readonly byte[] _referrerLayer;

    /// <summary>Every manifest (Manifests) and blob (Blobs) of the image and its referrer, by digest.</summary>
    public IReadOnlyDictionary<string, byte[]> Manifests { get; }
    public IReadOnlyDictionary<string, byte[]> Blobs { get; }

    public MultiPlatformImage()
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = IndexMediaType,
            ["manifests"] = new JsonArray(Platform(Amd64, "amd64"), Platform(Arm64, "arm64")),
        };
        Index = Encoding.UTF8.GetBytes(index.ToJsonString());
        IndexDigest = TestImage.DigestOf(Index);

        _referrerLayer = Encoding.UTF8.GetBytes($"{{\"sbom\":\"{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}\"}}");
        var referrer = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = TestImage.ManifestMediaType,
            ["artifactType"] = ReferrerArtifactType,
            ["config"] = TestImage.Descriptor("application/vnd.oci.empty.v1+json", TestImage.DigestOf(_referrerConfig), _referrerConfig.Length),
            ["layers"] = new JsonArray(TestImage.Descriptor("application/json", TestImage.DigestOf(_referrerLayer), _referrerLayer.Length)),
            ["subject"] = TestImage.Descriptor(IndexMediaType, IndexDigest, Index.Length),
        };
        Referrer = Encoding.UTF8.GetBytes(referrer.ToJsonString());
        ReferrerDigest = TestImage.DigestOf(Referrer);

        Manifests = new Dictionary<string, byte[]>
        {
            [Amd64.ManifestDigest] = Amd64.Manifest,
            [Arm64.ManifestDigest] = Arm64.Manifest,
            [IndexDigest] = Index,
            [ReferrerDigest] = Referrer,
        };
        Blobs = new Dictionary<string, byte[]>
        {
            [Amd64.ConfigDigest] = Amd64.Config,
            [Amd64.LayerDigest] = Amd64.Layer,
            [Arm64.ConfigDigest] = Arm64.Config,
            [Arm64.LayerDigest] = Arm64.Layer,
            [TestImage.DigestOf(_referrerConfig)] = _referrerConfig,
            [TestImage.DigestOf(_referrerLayer)] = _referrerLayer,
        };
    }

    /// <summary>Pushes (blobs in two requests each, which every registry takes) the blobs, both platform manifests, the index under <paramref name="tag"/>, and (optionally) the referrer.</summary>
    public async Task PushAsync(HttpClient client, string repository, string tag, bool withReferrer = true)
    {
        foreach (var image in new[] { Amd64, Arm64 })
        {
            await RegistryHttp.PushBlobInTwoRequestsAsync(client, repository, image.Layer);
            await RegistryHttp.PushBlobInTwoRequestsAsync(client, repository, image.Config);
            await client.PushManifestAsync(repository, image.ManifestDigest, image.Manifest);
        }
        await client.PushManifestAsync(repository, tag, Index, IndexMediaType);
        if (!withReferrer) return;
        await RegistryHttp.PushBlobInTwoRequestsAsync(client, repository, _referrerConfig);
        await RegistryHttp.PushBlobInTwoRequestsAsync(client, repository, _referrerLayer);
        await client.PushManifestAsync(repository, ReferrerDigest, Referrer);
    }

    private static JsonObject Platform(TestImage image, string architecture)
    {
        var descriptor = TestImage.Descriptor(TestImage.ManifestMediaType, image.ManifestDigest, image.Manifest.Length);
        descriptor["platform"] = new JsonObject { ["os"] = "linux", ["architecture"] = architecture };
        return descriptor;
    }
}
