using Berth.Core.Identity;
using Berth.Core.Registries;
using Microsoft.Extensions.Options;

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

    /// <summary>Records a failed credential attempt from <paramref name="address"/>; refused once the address has used its attempts.</summary>
    public ValueTask<ThrottleDecision> RecordFailedCredentialsAsync(Registry registry, UInt128 address, CancellationToken cancellationToken) =>
        RecordFailedAttemptAsync(registry.Name, address, cancellationToken);

    /// <summary>Whether <paramref name="address"/> may present credentials now (it has failed attempts left), without spending any.</summary>
    public ValueTask<ThrottleDecision> MayPresentCredentialsAsync(Registry registry, UInt128 address, CancellationToken cancellationToken) =>
        MayAttemptAsync(registry.Name, address, cancellationToken);

    /// <summary>Records a failed management sign-in (a wrong client secret) from <paramref name="address"/>.</summary>
    public ValueTask<ThrottleDecision> RecordFailedSignInAsync(UInt128 address, CancellationToken cancellationToken) =>
        RecordFailedAttemptAsync(ManagementPlane, address, cancellationToken);

    /// <summary>Whether <paramref name="address"/> may try a management sign-in now, without spending an attempt.</summary>
    public ValueTask<ThrottleDecision> MaySignInAsync(UInt128 address, CancellationToken cancellationToken) =>
        MayAttemptAsync(ManagementPlane, address, cancellationToken);

    /// <summary>The name failed management sign-ins are counted under: the management plane has no registry, and no registry has an empty name.</summary>
    private const string ManagementPlane = "";

    private ValueTask<ThrottleDecision> RecordFailedAttemptAsync(string scope, UInt128 address, CancellationToken cancellationToken) =>
        _options.Enabled
            ? store.TryAcquireAsync(FailedCredentialsKey(scope, address), _options.FailedCredentialsPerAddress.ToBucket(), cancellationToken)
            : ValueTask.FromResult(Unthrottled);

    private ValueTask<ThrottleDecision> MayAttemptAsync(string scope, UInt128 address, CancellationToken cancellationToken) =>
        _options.Enabled
            ? store.PeekAsync(FailedCredentialsKey(scope, address), _options.FailedCredentialsPerAddress.ToBucket(), cancellationToken)
            : ValueTask.FromResult(Unthrottled);

    private static ThrottleKey FailedCredentialsKey(string scope, UInt128 address) =>
        new(scope, ThrottleSubject.FailedCredentialsAddress, "", address, ThrottleCategory.Token);
}
