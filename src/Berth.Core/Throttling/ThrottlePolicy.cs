namespace Berth.Core.Throttling;

/// <summary>
/// Who spends from which bucket (DESIGN.md, Access model → Throttling). Every identity has its own buckets per
/// registry and category, sized by the registry's tier, so no caller can use up another's budget. Anonymous callers
/// spend twice: from their address's bucket (a small share) and then from the one bucket all anonymous callers of
/// the registry share (a larger share). The address comes first so that a flooding address, once refused, stops
/// draining the shared bucket that other anonymous clients need.
/// </summary>
public sealed class ThrottlePolicy(IThrottleCounterStore store, IOptions<ThrottlingOptions> options)
{
    /// <summary>Remaining value reported when throttling is off.</summary>
    public const long Unlimited = -1;

    private static readonly ThrottleDecision Unthrottled = new(true, Unlimited, TimeSpan.Zero);
    private readonly ThrottlingOptions _options = options.Value;

    public bool Enabled => _options.Enabled;

    /// <summary>Spends one <paramref name="category"/> request of an authenticated or anonymous caller.</summary>
    public async ValueTask<ThrottleDecision> AdmitAsync(Registry registry, RegistryPrincipal principal, UInt128 address, ThrottleCategory category, CancellationToken cancellationToken)
    {
        if (!_options.Enabled) return Unthrottled;
        var limit = _options.For(registry.Sku).For(category);
        if (!principal.IsAnonymous)
        {
            var subject = principal.Kind == PrincipalKind.Admin ? ThrottleSubject.Admin : ThrottleSubject.Token;
            return await store.TryAcquireAsync(new ThrottleKey(registry.Name, subject, principal.Name, UInt128.Zero, category), limit.ToBucket(), cancellationToken);
        }
        return await AdmitAnonymousAsync(registry, address, category, cancellationToken);
    }

    /// <summary>How many <paramref name="category"/> requests one anonymous address may make at once: its own bucket's size.</summary>
    public long AnonymousAddressLimit(Registry registry, ThrottleCategory category) =>
        (long)_options.For(registry.Sku).For(category).ToBucket(_options.AnonymousPerAddressShare).Capacity;

    /// <summary>Spends one <paramref name="category"/> request of an anonymous caller at <paramref name="address"/>.</summary>
    public async ValueTask<ThrottleDecision> AdmitAnonymousAsync(Registry registry, UInt128 address, ThrottleCategory category, CancellationToken cancellationToken)
    {
        if (!_options.Enabled) return Unthrottled;
        var limit = _options.For(registry.Sku).For(category);
        return await store.TryAcquireBothAsync(
            new ThrottleKey(registry.Name, ThrottleSubject.AnonymousAddress, "", address, category), limit.ToBucket(_options.AnonymousPerAddressShare),
            new ThrottleKey(registry.Name, ThrottleSubject.Anonymous, RegistryPrincipal.AnonymousName, UInt128.Zero, category), limit.ToBucket(_options.AnonymousShare),
            cancellationToken);
    }

    // Failed credentials. Each attempt takes one request from its address's bucket before the credentials are checked
    // and gives it back if they were right, so a failed attempt costs exactly one take. Peeking first and charging
    // after the check let every concurrent guess through while the bucket still looked full (100 guesses at once ran
    // about 60 checks against a budget of 30), and let a right password among them be admitted.

    /// <summary>
    /// Reserves one failed-credentials attempt for <paramref name="address"/> before its credentials for
    /// <paramref name="registry"/> are checked; refused once the address has used its attempts. Give it back with
    /// <see cref="RefundCredentialAttemptAsync"/> when the credentials were right.
    /// </summary>
    public ValueTask<ThrottleDecision> ReserveCredentialAttemptAsync(Registry registry, UInt128 address, CancellationToken cancellationToken) =>
        ReserveAttemptAsync(registry.Name, address, cancellationToken);

    /// <summary>Gives back an attempt reserved by <see cref="ReserveCredentialAttemptAsync"/> whose credentials were right.</summary>
    public ValueTask RefundCredentialAttemptAsync(Registry registry, UInt128 address, CancellationToken cancellationToken) =>
        RefundAttemptAsync(registry.Name, address, cancellationToken);

    /// <summary>Reserves one attempt at a management sign-in (a client secret) for <paramref name="address"/>, as <see cref="ReserveCredentialAttemptAsync"/>.</summary>
    public ValueTask<ThrottleDecision> ReserveSignInAttemptAsync(UInt128 address, CancellationToken cancellationToken) =>
        ReserveAttemptAsync(ManagementPlane, address, cancellationToken);

    /// <summary>Gives back a sign-in attempt whose client secret was right.</summary>
    public ValueTask RefundSignInAttemptAsync(UInt128 address, CancellationToken cancellationToken) =>
        RefundAttemptAsync(ManagementPlane, address, cancellationToken);

    /// <summary>The name failed management sign-ins are counted under: the management plane has no registry, and no registry has an empty name.</summary>
    private const string ManagementPlane = "";

    private ValueTask<ThrottleDecision> ReserveAttemptAsync(string scope, UInt128 address, CancellationToken cancellationToken) =>
        _options.Enabled
            ? store.TryAcquireAsync(FailedCredentialsKey(scope, address), _options.FailedCredentialsPerAddress.ToBucket(), cancellationToken)
            : ValueTask.FromResult(Unthrottled);

    private ValueTask RefundAttemptAsync(string scope, UInt128 address, CancellationToken cancellationToken) =>
        _options.Enabled
            ? store.RefundAsync(FailedCredentialsKey(scope, address), _options.FailedCredentialsPerAddress.ToBucket(), cancellationToken)
            : ValueTask.CompletedTask;

    private static ThrottleKey FailedCredentialsKey(string scope, UInt128 address) =>
        new(scope, ThrottleSubject.FailedCredentialsAddress, "", address, ThrottleCategory.Token);
}
