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

    // ACR documents its ReadOps and WriteOps as minimum estimates (reference §6), so each bucket holds a full minute
    // of budget: a large pull or a conformance-style push runs at once, a sustained flood is held to the rate.
    // Deletes get half the writes and referrers half the reads. Token requests are cheap for a client that caches
    // its token, but every repository a docker client touches costs one, and ACR's token responses hint at a
    // generous per-second budget (x-ms-ratelimit-remaining-calls-per-second: 166.6, reference §2.4).
    internal static TierThrottleLimits ForBasic() => Uniform(read: 1_000, write: 100, token: 600);

    internal static TierThrottleLimits ForStandard() => Uniform(read: 3_000, write: 500, token: 1_200);

    internal static TierThrottleLimits ForPremium() => Uniform(read: 10_000, write: 2_000, token: 3_000);

    private static TierThrottleLimits Uniform(double read, double write, double token) => new()
    {
        Read = new() { PerMinute = read, Burst = read },
        Write = new() { PerMinute = write, Burst = write },
        Delete = new() { PerMinute = write / 2, Burst = write / 2 },
        Token = new() { PerMinute = token, Burst = token },
        Referrers = new() { PerMinute = read / 2, Burst = read / 2 },
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
