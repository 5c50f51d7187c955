namespace Berth.Redis;

/// <summary>
/// The <c>Berth:Redis</c> section. Unset (the default), throttling buckets and cache generations stay in process
/// memory, which is right for one node; set, every node that shares the database shares them through Redis.
/// </summary>
public sealed class RedisOptions
{
    public const string DefaultKeyPrefix = "berth:";

    /// <summary>A StackExchange.Redis configuration string, e.g. <c>redis.example.com:6379,password=...,ssl=true</c>.</summary>
    public string? Configuration { get; set; }

    /// <summary>Put in front of every key, so several Berth installations (or other programs) can share one Redis.</summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Configuration);
}
