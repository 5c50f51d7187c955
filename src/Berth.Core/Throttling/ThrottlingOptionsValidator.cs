namespace Berth.Core.Throttling;

/// <summary>Bad throttling configuration stops the process at start-up with a message naming the setting.</summary>
internal sealed class ThrottlingOptionsValidator : IValidateOptions<ThrottlingOptions>
{
    public ValidateOptionsResult Validate(string? name, ThrottlingOptions options)
    {
        var errors = new List<string>();
        foreach (var (tier, limits) in new[] { ("Basic", options.Basic), ("Standard", options.Standard), ("Premium", options.Premium) })
        {
            if (limits is null)
            {
                errors.Add($"Berth:Throttling:{tier} must not be empty.");
                continue;
            }
            foreach (var category in Enum.GetValues<ThrottleCategory>())
                Check(errors, $"Berth:Throttling:{tier}:{category}", limits.For(category));
        }
        Check(errors, "Berth:Throttling:FailedCredentialsPerAddress", options.FailedCredentialsPerAddress);
        CheckShare(errors, "Berth:Throttling:AnonymousShare", options.AnonymousShare);
        CheckShare(errors, "Berth:Throttling:AnonymousPerAddressShare", options.AnonymousPerAddressShare);
        if (options.AnonymousPerAddressShare > options.AnonymousShare)
            errors.Add($"Berth:Throttling:AnonymousPerAddressShare ({options.AnonymousPerAddressShare}) must not exceed AnonymousShare ({options.AnonymousShare}): one address would get more than all anonymous callers together.");
        if (options.IdleBucketTimeout < TimeSpan.FromSeconds(1))
            errors.Add($"Berth:Throttling:IdleBucketTimeout ({options.IdleBucketTimeout}) must be at least one second (for example 00:05:00).");
        if (options.MaxBuckets < 100)
            errors.Add($"Berth:Throttling:MaxBuckets ({options.MaxBuckets}) must be at least 100.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, string setting, CategoryLimit? limit)
    {
        if (limit is null)
        {
            errors.Add($"{setting} must not be empty.");
            return;
        }
        if (!double.IsFinite(limit.PerMinute) || limit.PerMinute <= 0)
            errors.Add($"{setting}:PerMinute ({limit.PerMinute}) must be a positive number of requests per minute.");
        if (!double.IsFinite(limit.Burst) || limit.Burst < 1)
            errors.Add($"{setting}:Burst ({limit.Burst}) must be at least 1 request.");
    }

    private static void CheckShare(List<string> errors, string setting, double share)
    {
        if (!double.IsFinite(share) || share <= 0 || share > 1)
            errors.Add($"{setting} ({share}) must be a fraction greater than 0 and at most 1.");
    }
}
