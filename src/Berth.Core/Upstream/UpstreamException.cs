namespace Berth.Core.Upstream;

/// <summary>What went wrong upstream, as the cache reports it and metrics count it.</summary>
public enum UpstreamErrorKind
{
    /// <summary>No connection, a timeout, or a 5xx.</summary>
    Unreachable,
    /// <summary>The upstream (or its token service) refused the credentials, or asked for some where none were given.</summary>
    Unauthorized,
    /// <summary>The upstream does not have the repository, manifest or blob.</summary>
    NotFound,
    /// <summary>The upstream answered 429; Berth leaves it alone until <see cref="UpstreamException.RetryAfter"/> has passed.</summary>
    Throttled,
    /// <summary>Berth's own destination rules forbid the request (a private address, plain HTTP not allowed).</summary>
    Refused,
    /// <summary>The upstream answered something that is not a registry's answer, or content that does not match its digest.</summary>
    BadResponse,
}

/// <summary>A failed request to an upstream registry; the message names the upstream and the cause.</summary>
public sealed class UpstreamException(UpstreamErrorKind kind, string upstream, string cause, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception($"upstream {upstream}: {cause}", inner)
{
    /// <summary>What went wrong, without the upstream's name (the message is "upstream NAME: CAUSE").</summary>
    public string Cause { get; } = cause;

    public UpstreamErrorKind Kind { get; } = kind;

    public string Upstream { get; } = upstream;

    public TimeSpan? RetryAfter { get; } = retryAfter;
}
