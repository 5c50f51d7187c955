namespace Berth.Server.Web;

/// <summary>
/// The artifact types the manifest page names and groups its referrers by: signatures (cosign, Notation), SBOMs (SPDX,
/// CycloneDX) and attestations (in-toto, DSSE, Sigstore bundles); anything else is shown under its raw type.
/// </summary>
public static class ArtifactTypes
{
    public const string Signatures = "signatures";
    public const string Sboms = "sboms";
    public const string Attestations = "attestations";
    public const string Other = "other";

    /// <summary>The groups in the order the page shows them.</summary>
    public static IReadOnlyList<(string Key, string Title)> Groups { get; } =
    [
        (Signatures, "Signatures"), (Sboms, "SBOMs"), (Attestations, "Attestations"), (Other, "Other artifacts"),
    ];

    /// <summary>cosign's tag scheme (<c>sha256-&lt;hex&gt;.sig</c> and so on) for registries without the referrers API.</summary>
    public static IReadOnlyList<(string Suffix, string Group)> CosignTagSuffixes { get; } = [(".sig", Signatures), (".att", Attestations), (".sbom", Sboms)];

    /// <summary>cosign's signature layer in its tag scheme (and in a referrer whose artifact type is a generic config type).</summary>
    public const string CosignSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json";

    private static readonly Dictionary<string, (string Group, string Name)> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["application/vnd.dev.cosign.artifact.sig.v1+json"] = (Signatures, "cosign signature"),
        [CosignSimpleSigning] = (Signatures, "cosign signature"),
        ["application/vnd.cncf.notary.signature"] = (Signatures, "Notation signature"),
        ["application/spdx+json"] = (Sboms, "SPDX SBOM"),
        ["text/spdx"] = (Sboms, "SPDX SBOM"),
        ["application/vnd.cyclonedx+json"] = (Sboms, "CycloneDX SBOM"),
        ["application/vnd.cyclonedx+xml"] = (Sboms, "CycloneDX SBOM"),
        ["application/vnd.in-toto+json"] = (Attestations, "in-toto attestation"),
        ["application/vnd.dsse.envelope.v1+json"] = (Attestations, "in-toto attestation (DSSE)"),
    };

    /// <summary>The group of <paramref name="type"/>, or of the first layer type known when the type itself says nothing.</summary>
    public static string GroupOf(string type, IReadOnlyList<string>? layerTypes = null) =>
        Lookup(type) is { } known ? known.Group
        : (layerTypes ?? []).Select(Lookup).FirstOrDefault(found => found is not null) is { } layer ? layer.Group
        : Other;

    /// <summary>A person's name for the type; the raw type when it is not one of the known ones.</summary>
    public static string NameOf(string type, IReadOnlyList<string> layerTypes, string? fallbackGroup = null) =>
        Lookup(type)?.Name ?? layerTypes.Select(Lookup).FirstOrDefault(found => found is not null)?.Name
        ?? (fallbackGroup is not null && type.Length == 0 ? Groups.First(g => g.Key == fallbackGroup).Title : type);

    private static (string Group, string Name)? Lookup(string type)
    {
        if (Known.TryGetValue(type, out var known)) return known;
        // Sigstore bundles carry their version in the type (application/vnd.dev.sigstore.bundle.v0.3+json, ...).
        return type.StartsWith("application/vnd.dev.sigstore.bundle", StringComparison.OrdinalIgnoreCase) ? (Attestations, "Sigstore bundle") : null;
    }
}
