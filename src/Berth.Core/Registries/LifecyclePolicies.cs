using System.Globalization;
using System.Text.Json.Nodes;

namespace Berth.Core.Registries;

/// <summary>
/// ACR's retention policy for untagged manifests: when <see cref="Enabled"/>, a manifest that lost its last tag at or
/// after <see cref="EnabledSince"/> is deleted <see cref="Days"/> days later (manifests untagged before the policy was
/// switched on are left alone, as in ACR).
/// </summary>
public sealed record RetentionPolicy(bool Enabled, int Days, DateTimeOffset EnabledSince)
{
    public const int MinDays = 0;
    public const int MaxDays = 365;
    public const int DefaultDays = 7;
}

/// <summary>ACR's soft-delete policy: when <see cref="Enabled"/>, deleted manifests and tags are kept <see cref="RetentionDays"/> days.</summary>
public sealed record SoftDeletePolicy(bool Enabled, int RetentionDays)
{
    public const int MinDays = 1;
    public const int MaxDays = 90;
    public const int DefaultDays = 7;

    /// <summary>Content soft-deleted before this time has outlived its retention at <paramref name="now"/>.</summary>
    public DateTimeOffset PurgeBefore(DateTimeOffset now) => now - TimeSpan.FromDays(RetentionDays);
}

/// <summary>
/// The content lifecycle settings of a registry, read from the ARM properties it stores
/// (<c>properties.policies.retentionPolicy</c> and <c>softDeletePolicy</c> of <see cref="Registry.ArmExtrasJson"/>).
/// The management plane validates them when they are set; this only reads, with ACR's defaults for what is missing.
/// </summary>
public sealed record LifecyclePolicies(RetentionPolicy Retention, SoftDeletePolicy SoftDelete)
{
    /// <summary>Where the time retention was last switched on is kept: beside the ARM resource, never shown by it.</summary>
    public const string RetentionEnabledSinceKey = "retentionEnabledSince";

    public static LifecyclePolicies Disabled { get; } = new(
        new RetentionPolicy(false, RetentionPolicy.DefaultDays, DateTimeOffset.MaxValue),
        new SoftDeletePolicy(false, SoftDeletePolicy.DefaultDays));

    public static LifecyclePolicies Of(Registry registry) => Read(registry.ArmExtrasJson);

    public static LifecyclePolicies Read(string? armExtrasJson)
    {
        if (string.IsNullOrEmpty(armExtrasJson)) return Disabled;
        JsonObject? extras;
        try
        {
            extras = JsonNode.Parse(armExtrasJson) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return Disabled;
        }
        var policies = (extras?["properties"] as JsonObject)?["policies"] as JsonObject;
        var retention = policies?["retentionPolicy"] as JsonObject;
        var softDelete = policies?["softDeletePolicy"] as JsonObject;
        var since = Text(extras?[RetentionEnabledSinceKey]) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            // Stores keep times in whole milliseconds: a manifest untagged in the same millisecond still counts.
            ? DateTimeOffset.FromUnixTimeMilliseconds(parsed.ToUnixTimeMilliseconds()) : DateTimeOffset.MinValue;
        return new LifecyclePolicies(
            new RetentionPolicy(IsEnabled(retention), Number(retention?["days"]) ?? RetentionPolicy.DefaultDays, since),
            new SoftDeletePolicy(IsEnabled(softDelete), Number(softDelete?["retentionDays"]) ?? SoftDeletePolicy.DefaultDays));
    }

    private static bool IsEnabled(JsonObject? policy) => string.Equals(Text(policy?["status"]), "enabled", StringComparison.OrdinalIgnoreCase);

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private static int? Number(JsonNode? node) => node is JsonValue value && value.TryGetValue<int>(out var number) ? number : null;
}
