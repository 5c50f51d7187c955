using Berth.Core.Registries;

namespace Berth.Core.Throttling;

/// <summary>
/// The <c>Berth:Throttling</c> configuration section. Each tier's numbers start from ACR's published per-minute
/// ReadOps and WriteOps (reference §6: Basic 1,000/100, Standard 3,000/500, Premium 10,000/2,000); every number can
/// be overridden per tier, e.g. <c>--Berth:Throttling:Standard:Read:PerMinute=6000</c>.
/// </summary>
public sealed class ThrottlingOptions
{
    public const string Section = "Berth:Throttling";

    /// <summary>Off turns every check into a pass (for benchmarks against a peer registry).</summary>
    public bool Enabled { get; set; } = true;

    public TierThrottleLimits Basic { get; set; } = TierThrottleLimits.ForBasic();
    public TierThrottleLimits Standard { get; set; } = TierThrottleLimits.ForStandard();
    public TierThrottleLimits Premium { get; set; } = TierThrottleLimits.ForPremium();

    /// <summary>All anonymous callers of a registry together get this share of an identity's budget.</summary>
    public double AnonymousShare { get; set; } = 0.5;

    /// <summary>One anonymous client address (IPv6: its /64) gets this share of an identity's budget.</summary>
    public double AnonymousPerAddressShare { get; set; } = 0.1;

    /// <summary>
    /// Failed credential attempts one client address may make (same for every tier). While an address has used them
    /// up, its credentialed token requests are refused whatever the password, so guessing gains nothing by going fast.
    /// </summary>
    public CategoryLimit FailedCredentialsPerAddress { get; set; } = new() { PerMinute = 30, Burst = 30 };

    /// <summary>A bucket unused this long (and full again) is dropped.</summary>
    public TimeSpan IdleBucketTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>At most this many buckets are kept in memory.</summary>
    public int MaxBuckets { get; set; } = 100_000;

    public TierThrottleLimits For(RegistrySku sku) => sku switch
    {
        RegistrySku.Basic => Basic,
        RegistrySku.Premium => Premium,
        _ => Standard,
    };
}

/// <summary>One tier's budgets per identity, by category.</summary>
public sealed class TierThrottleLimits
{
    public CategoryLimit Read { get; set; } = new();
    public CategoryLimit Write { get; set; } = new();
    public CategoryLimit Delete { get; set; } = new();
    public CategoryLimit Token { get; set; } = new();
    public CategoryLimit Referrers { get; set; } = new();

    public CategoryLimit For(ThrottleCategory category) => category switch
    {
        ThrottleCategory.Read => Read,
        ThrottleCategory.Write => Write,
        ThrottleCategory.Delete => Delete,
        ThrottleCategory.Token => Token,
        _ => Referrers,
    };

    // Bursts are a fifth of a minute's budget (twelve seconds of refill): enough for a large pull or push at once,
    // small enough that "bursts can be throttled even when the average is under the limit" (reference §6) holds.
    // Deletes get half the writes, referrers half the reads; token requests are rare per identity (clients cache
    // tokens for their lifetime) and are budgeted below reads.
    internal static TierThrottleLimits ForBasic() => new()
    {
        Read = new() { PerMinute = 1_000, Burst = 200 },
        Write = new() { PerMinute = 100, Burst = 50 },
        Delete = new() { PerMinute = 50, Burst = 20 },
        Token = new() { PerMinute = 200, Burst = 50 },
        Referrers = new() { PerMinute = 500, Burst = 100 },
    };

    internal static TierThrottleLimits ForStandard() => new()
    {
        Read = new() { PerMinute = 3_000, Burst = 600 },
        Write = new() { PerMinute = 500, Burst = 150 },
        Delete = new() { PerMinute = 250, Burst = 50 },
        Token = new() { PerMinute = 600, Burst = 100 },
        Referrers = new() { PerMinute = 1_500, Burst = 300 },
    };

    internal static TierThrottleLimits ForPremium() => new()
    {
        Read = new() { PerMinute = 10_000, Burst = 2_000 },
        Write = new() { PerMinute = 2_000, Burst = 500 },
        Delete = new() { PerMinute = 1_000, Burst = 200 },
        Token = new() { PerMinute = 2_000, Burst = 300 },
        Referrers = new() { PerMinute = 5_000, Burst = 1_000 },
    };
}

/// <summary>A sustained rate (requests per minute) and how many requests may arrive at once (the bucket's capacity).</summary>
public sealed class CategoryLimit
{
    public double PerMinute { get; set; }
    public double Burst { get; set; }

    /// <summary>This budget scaled by <paramref name="share"/>; a scaled bucket still holds at least one request.</summary>
    public BucketLimit ToBucket(double share = 1) => new(Math.Max(1, Burst * share), PerMinute * share / 60);
}
