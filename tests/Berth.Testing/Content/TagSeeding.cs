using Berth.Core.Storage;
using Berth.Oci;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Testing;

/// <summary>
/// Many tags in one repository, written through the metadata store in-process: the same rows 100,000 pushes would
/// write, in a minute instead of an hour. The image's blobs must already be linked into the repository (push it once).
/// </summary>
public static class TagSeeding
{
    /// <summary>The name of the <paramref name="index"/>th seeded tag: <c>t-000000</c>, <c>t-000001</c>, ...</summary>
    public static string TagName(int index) => $"t-{index:D6}";

    /// <summary>Writes <paramref name="count"/> tags onto eight manifests over the image's config and layer, one metadata write each, as a push makes them.</summary>
    public static async Task SeedAsync(IServiceProvider services, RepositoryKey repository, TestImage image, int count)
    {
        var metadata = services.GetRequiredService<IMetadataStore>();
        var manifests = Enumerable.Range(0, 8).Select(i => image.VariantManifest("variant-" + i)).ToList();
        Digest[] blobs = [Digest.Parse(image.ConfigDigest), Digest.Parse(image.LayerDigest)];
        for (var i = 0; i < count; i++)
        {
            var content = manifests[i % manifests.Count];
            var stored = new StoredManifest(Digest.Compute(content), TestImage.ManifestMediaType, content, null, null, null, DateTimeOffset.UtcNow);
            await metadata.PutManifestAsync(repository, new ManifestWrite(stored, blobs, [], TagName(i)), CancellationToken.None);
        }
    }
}
