namespace Berth.Core.Maintenance;

/// <summary>The <c>Berth:GarbageCollection</c> configuration section.</summary>
public sealed class GarbageCollectionOptions
{
    public const string Section = "Berth:GarbageCollection";

    /// <summary>How often the server collects on its own; zero (the default) leaves collection to <c>berth gc</c>.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Also delete manifests no tag, index or live subject keeps (ACR's untagged-manifest purge). Off by default:
    /// clients that pull by digest rely on untagged manifests staying.
    /// </summary>
    public bool DeleteUntaggedManifests { get; set; }

    /// <summary>
    /// Nothing younger than this is collected: blob links (a blob pushed for a manifest not yet pushed), blob bytes
    /// (a commit whose link is not yet written) and untagged manifests (the children of an index still being pushed).
    /// </summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Upload sessions started longer ago than this are abandoned: their metadata and bytes are removed.</summary>
    public TimeSpan UploadExpiry { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>Bad garbage collection settings stop the process at start-up with a message naming the setting.</summary>
internal sealed class GarbageCollectionOptionsValidator : IValidateOptions<GarbageCollectionOptions>
{
    public ValidateOptionsResult Validate(string? name, GarbageCollectionOptions options)
    {
        var errors = new List<string>();
        if (options.Interval < TimeSpan.Zero || (options.Interval > TimeSpan.Zero && options.Interval < TimeSpan.FromMinutes(1)))
            errors.Add($"Berth:GarbageCollection:Interval ({options.Interval}) must be 00:00:00 (off) or at least one minute (for example 1.00:00:00 for daily).");
        if (options.GracePeriod < TimeSpan.FromMinutes(1))
            errors.Add($"Berth:GarbageCollection:GracePeriod ({options.GracePeriod}) must be at least one minute: it protects blobs pushed for a manifest that is still on its way (for example 01:00:00).");
        if (options.UploadExpiry < TimeSpan.FromMinutes(10))
            errors.Add($"Berth:GarbageCollection:UploadExpiry ({options.UploadExpiry}) must be at least ten minutes so that slow uploads can finish (for example 1.00:00:00).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
