using System.Collections.Concurrent;

namespace Berth.Core.Identity.Credentials;

/// <summary>
/// Remembers successful password verifications briefly, so a busy client (a pull sends a Basic-authenticated
/// token request per repository, and az sends Basic on every call) does not pay a password hash each time (a PBKDF2 one, for hashes stored before the fast format).
/// Keys are HMAC-SHA256 under a per-process random key of (registry, identity, identity version, password):
/// no password or reusable hash is held in memory, and any change to the identity bumps its version, so old
/// entries can never match again. Expiry and enabled checks are not cached; callers make them on every request.
/// </summary>
public sealed class VerificationCache
{
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _duration;
    private readonly int _capacity;

    public VerificationCache(TimeProvider time, IOptions<IdentityOptions> options)
    {
        _time = time;
        _duration = options.Value.VerificationCacheDuration;
        _capacity = Math.Max(1, options.Value.VerificationCacheCapacity);
    }

    public int Count => _entries.Count;

    /// <summary>The credential slot (e.g. <c>password1</c>) the password was verified against, or null on a miss.</summary>
    public string? GetCredentialOrNull(string registry, string identity, long version, string password)
    {
        var key = ComputeKey(registry, identity, version, password);
        if (!_entries.TryGetValue(key, out var entry))
            return null;
        if (_time.GetUtcNow() >= entry.ExpiresAt)
        {
            _entries.TryRemove(key, out _);
            return null;
        }
        return entry.Credential;
    }

    public void Add(string registry, string identity, long version, string password, string credential)
    {
        if (_duration <= TimeSpan.Zero)
            return;
        var now = _time.GetUtcNow();
        if (_entries.Count >= _capacity)
            Prune(now);
        _entries[ComputeKey(registry, identity, version, password)] = new Entry(credential, now + _duration);
    }

    private void Prune(DateTimeOffset now)
    {
        foreach (var (key, entry) in _entries)
        {
            if (now >= entry.ExpiresAt)
                _entries.TryRemove(key, out _);
        }
        // Still full of live entries: start over rather than grow; the cost is one password check per client.
        if (_entries.Count >= _capacity)
            _entries.Clear();
    }

    private string ComputeKey(string registry, string identity, long version, string password)
    {
        // Lengths are part of the input so that no two distinct tuples serialize alike.
        var text = $"{registry.Length}:{registry}|{identity.Length}:{identity.ToLowerInvariant()}|{version}|{password}";
        return Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(text)));
    }

    private readonly record struct Entry(string Credential, DateTimeOffset ExpiresAt);
}
