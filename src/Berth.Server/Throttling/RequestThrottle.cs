using System.Net;

namespace Berth.Server.Throttling;

/// <summary>
/// The HTTP side of throttling: the access-control and token-service hooks call it once the caller is known.
/// Admitted responses carry the remaining budget; refused ones get ACR's 429 <c>TOOMANYREQUESTS</c> with
/// <c>Retry-After</c> in whole seconds (the Azure SDKs retry a 429 only when it is present, reference §1.7).
/// Health, readiness and metrics endpoints never reach it.
/// </summary>
public static class RequestThrottle
{
    public const string RemainingHeader = "x-ms-ratelimit-remaining-calls-per-second";
    public const string RateLimitRemainingHeader = "RateLimit-Remaining";
    public const string RateLimitLimitHeader = "RateLimit-Limit";

    // ACR's message as docker prints it (reference §2.4), serialized once.
    private static readonly byte[] RejectionBody =
        """{"errors":[{"code":"TOOMANYREQUESTS","message":"Too many requests. Please visit https://aka.ms/acr/skus#sku-feature-matrix to view limits of all service tiers.","detail":null}]}"""u8.ToArray();

    private static readonly string[] SmallNumbers = Enumerable.Range(0, 1024).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>
    /// Called before a password is checked: reserves one of the address's failed attempts, so that concurrent guesses
    /// cannot all pass while the bucket still looks full. False when the address has used them up (the 429 has been
    /// written): a refused guess costs a bucket lookup rather than a password check, and a right password among the
    /// refusals is refused too (a 200 would give it away). A right password gets its attempt back
    /// (<see cref="RefundCredentialAttemptAsync"/>); a wrong one has paid with the reservation and is not charged again.
    /// </summary>
    public static async ValueTask<bool> ReserveCredentialAttemptAsync(HttpContext context, Registry registry, Func<HttpContext, Task>? writeRefusalBody = null)
    {
        var policy = Policy(context);
        if (!policy.Enabled) return true;
        var decision = await policy.ReserveCredentialAttemptAsync(registry, ClientAddress.ToKey(context.Connection.RemoteIpAddress), context.RequestAborted);
        if (!decision.Allowed) return await RejectAsync(context, registry, ThrottleSubject.FailedCredentialsAddress, null, ThrottleCategory.Token, decision, writeRefusalBody);
        context.Features.Set(new CredentialAttemptReserved(decision));
        return true;
    }

    /// <summary>Gives back the attempt <see cref="ReserveCredentialAttemptAsync"/> reserved for this request, if any: its credentials were right.</summary>
    public static async ValueTask RefundCredentialAttemptAsync(HttpContext context, Registry registry)
    {
        if (context.Features.Get<CredentialAttemptReserved>() is null) return;
        context.Features.Set<CredentialAttemptReserved>(null);
        await Policy(context).RefundCredentialAttemptAsync(registry, ClientAddress.ToKey(context.Connection.RemoteIpAddress), context.RequestAborted);
    }

    /// <summary>Marks a request whose credentials hold one of the address's failed attempts until they are found right.</summary>
    private sealed record CredentialAttemptReserved(ThrottleDecision Decision);

    /// <summary>
    /// Spends one <paramref name="category"/> request of an authorized caller; false when refused (the 429 has been
    /// written). No category (a step inside an upload session, counted when the session started) spends nothing.
    /// <paramref name="writeRefusalBody"/> writes the 429's body in another shape than ACR's JSON (the web page's HTML).
    /// </summary>
    public static async ValueTask<bool> AdmitAsync(HttpContext context, Registry registry, RegistryPrincipal principal, ThrottleCategory? category,
        Func<HttpContext, Task>? writeRefusalBody = null)
    {
        var policy = Policy(context);
        if (!policy.Enabled || category is null) return true;
        var address = ClientAddress.ToKey(context.Connection.RemoteIpAddress);
        var decision = await policy.AdmitAsync(registry, principal, address, category.Value, context.RequestAborted);
        // Docker Hub's header names: an anonymous client sees its own address's budget (the remainder may be lower when
        // all anonymous callers together are near theirs).
        if (principal.IsAnonymous) context.Response.Headers[RateLimitLimitHeader] = Number(policy.AnonymousAddressLimit(registry, category.Value));
        if (decision.Allowed)
        {
            WriteRemaining(context.Response, decision.Remaining);
            return true;
        }
        return await RejectAsync(context, registry, SubjectOf(principal), principal.IsAnonymous ? null : principal.Name, category.Value, decision, writeRefusalBody);
    }

    /// <summary>
    /// Spends one token request, before the token service answers <paramref name="result"/>: per identity when the
    /// credentials were valid, per address (and the shared anonymous identity) for anonymous requests, and per
    /// address for failed credentials. False when refused (the 429 has been written).
    /// </summary>
    public static async ValueTask<bool> AdmitTokenRequestAsync(HttpContext context, Registry registry, AuthenticationResult result)
    {
        var policy = Policy(context);
        if (!policy.Enabled) return true;
        var address = ClientAddress.ToKey(context.Connection.RemoteIpAddress);
        var cancellationToken = context.RequestAborted;
        ThrottleDecision decision;
        if (result.Principal is { IsAnonymous: false } principal)
        {
            await RefundCredentialAttemptAsync(context, registry);
            decision = await policy.AdmitAsync(registry, principal, address, ThrottleCategory.Token, cancellationToken);
            if (!decision.Allowed) return await RejectAsync(context, registry, SubjectOf(principal), principal.Name, ThrottleCategory.Token, decision);
        }
        else if (result.Principal is not null || result.Failure == AuthenticationFailure.AnonymousPullDisabled)
        {
            decision = await policy.AdmitAnonymousAsync(registry, address, ThrottleCategory.Token, cancellationToken);
            if (!decision.Allowed) return await RejectAsync(context, registry, ThrottleSubject.Anonymous, null, ThrottleCategory.Token, decision);
        }
        else if (context.Features.Get<CredentialAttemptReserved>() is { } reserved)
        {
            // The attempt was reserved before the password was checked; that reservation is its whole cost.
            decision = reserved.Decision;
        }
        else
        {
            // Credentials checked without a reservation (a JWT at /oauth2/exchange: a signature check, no password
            // hash) are charged now.
            decision = await policy.ReserveCredentialAttemptAsync(registry, address, cancellationToken);
            if (!decision.Allowed) return await RejectAsync(context, registry, ThrottleSubject.FailedCredentialsAddress, null, ThrottleCategory.Token, decision);
        }
        WriteRemaining(context.Response, decision.Remaining);
        return true;
    }

    private static async ValueTask<bool> RejectAsync(HttpContext context, Registry registry, ThrottleSubject subject, string? name, ThrottleCategory category, ThrottleDecision decision,
        Func<HttpContext, Task>? writeBody = null)
    {
        var seconds = decision.RetryAfterSeconds;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Berth.Throttling");
        if (logger.IsEnabled(LogLevel.Information))
            ThrottlingLog.Rejected(logger, category, subject, name ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown", registry.Name, seconds);

        var response = context.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = Number(seconds);
        WriteRemaining(response, 0);
        if (writeBody is not null)
        {
            await writeBody(context);
            return false;
        }
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = RejectionBody.Length;
        await response.Body.WriteAsync(RejectionBody, context.RequestAborted);
        return false;
    }

    private static void WriteRemaining(HttpResponse response, long remaining)
    {
        if (remaining < 0 || response.HasStarted) return;
        var value = Number(remaining);
        response.Headers[RemainingHeader] = value;
        response.Headers[RateLimitRemainingHeader] = value;
    }

    private static string Number(long value) =>
        value < SmallNumbers.Length ? SmallNumbers[value] : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether the request carries a password (HTTP Basic), as opposed to a bearer token or nothing.</summary>
    public static bool IsBasic(HttpRequest request) =>
        request.Headers.Authorization.ToString().StartsWith("Basic ", StringComparison.OrdinalIgnoreCase);

    private static ThrottleSubject SubjectOf(RegistryPrincipal principal) => principal.Kind switch
    {
        PrincipalKind.Admin => ThrottleSubject.Admin,
        PrincipalKind.Token => ThrottleSubject.Token,
        _ => ThrottleSubject.Anonymous,
    };

    private static ThrottlePolicy Policy(HttpContext context) => context.RequestServices.GetRequiredService<ThrottlePolicy>();
}
