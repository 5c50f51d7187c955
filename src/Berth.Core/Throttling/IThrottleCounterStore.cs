namespace Berth.Core.Throttling;

/// <summary>
/// Where bucket state lives. The default keeps it in process memory; several nodes share counters through a
/// distributed store (Redis) that implements the same calls. Implementations must be safe for concurrent use
/// and must not grow without bound.
/// </summary>
public interface IThrottleCounterStore
{
    /// <summary>Takes one request from the bucket <paramref name="key"/> if it holds one.</summary>
    ValueTask<ThrottleDecision> TryAcquireAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken);

    /// <summary>Whether the bucket holds a request now, without taking it (a bucket never used is full).</summary>
    ValueTask<ThrottleDecision> PeekAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken);

    /// <summary>
    /// Gives back one request that <see cref="TryAcquireAsync"/> took, atomically and never beyond the bucket's
    /// capacity: a failed-credentials attempt is reserved before the credentials are checked and refunded when they
    /// turn out to be right. A bucket that no longer exists is full, so there is nothing to give back.
    /// </summary>
    ValueTask RefundAsync(ThrottleKey key, BucketLimit limit, CancellationToken cancellationToken);

    /// <summary>
    /// Takes one request from <paramref name="first"/> and, only if it held one, one from <paramref name="then"/>: the
    /// first refusal decides, and an admission reports the smaller remainder. One call, so that a distributed store can
    /// answer in one round trip; the two keys are always of the same registry.
    /// </summary>
    async ValueTask<ThrottleDecision> TryAcquireBothAsync(ThrottleKey first, BucketLimit firstLimit, ThrottleKey then, BucketLimit thenLimit, CancellationToken cancellationToken)
    {
        var firstDecision = await TryAcquireAsync(first, firstLimit, cancellationToken);
        if (!firstDecision.Allowed) return firstDecision;
        return ThrottleDecision.Both(firstDecision, await TryAcquireAsync(then, thenLimit, cancellationToken));
    }
}
