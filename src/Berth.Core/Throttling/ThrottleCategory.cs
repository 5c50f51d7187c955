namespace Berth.Core.Throttling;

/// <summary>
/// What a request spends. ACR publishes per-minute ReadOps and WriteOps per tier (reference §6); deletes, token
/// requests and referrers lookups get budgets of their own so that a burst of one kind cannot exhaust another.
/// </summary>
public enum ThrottleCategory : byte { Read, Write, Delete, Token, Referrers }

/// <summary>Whose bucket a request spends from.</summary>
public enum ThrottleSubject : byte
{
    /// <summary>The registry's admin user, by name.</summary>
    Admin,

    /// <summary>A repository-scoped token, by name.</summary>
    Token,

    /// <summary>All anonymous callers of a registry together: one identity, as DESIGN.md asks.</summary>
    Anonymous,

    /// <summary>One anonymous client address (IPv4 address, IPv6 /64), so one address cannot use the whole anonymous budget.</summary>
    AnonymousAddress,

    /// <summary>Failed credential attempts from one client address, to slow password guessing.</summary>
    FailedCredentialsAddress,
}

/// <summary>
/// One bucket: (registry, subject, name or address, category). A value type of references the caller already holds
/// plus a 128-bit address, so building a key allocates nothing.
/// </summary>
public readonly record struct ThrottleKey(string Registry, ThrottleSubject Subject, string Name, UInt128 Address, ThrottleCategory Category);

/// <summary>A bucket's size: it holds at most <see cref="Capacity"/> requests and refills at <see cref="RefillPerSecond"/>.</summary>
public readonly record struct BucketLimit(double Capacity, double RefillPerSecond);

/// <summary>
/// The answer for one request. <see cref="Remaining"/> is what is left in the bucket after this request (whole requests);
/// <see cref="RetryAfter"/> is when the next request would be admitted, for rejections.
/// </summary>
public readonly record struct ThrottleDecision(bool Allowed, long Remaining, TimeSpan RetryAfter)
{
    /// <summary>
    /// Whole seconds for a <c>Retry-After</c> header: rounded up, never below one, with a little slack so that a client
    /// whose timer fires a few milliseconds early (timers are coarser than the bucket's clock) is still admitted.
    /// </summary>
    public int RetryAfterSeconds => Math.Max(1, (int)Math.Min(int.MaxValue, Math.Ceiling(RetryAfter.TotalSeconds + RetrySlackSeconds)));

    /// <summary>The answer for a request admitted by <paramref name="first"/> that then spent from <paramref name="then"/> too.</summary>
    public static ThrottleDecision Both(ThrottleDecision first, ThrottleDecision then) =>
        then.Allowed ? then with { Remaining = Math.Min(first.Remaining, then.Remaining) } : then;

    private const double RetrySlackSeconds = 0.05;
}
