using Berth.Core.Storage;
using StackExchange.Redis.KeyspaceIsolation;

namespace Berth.Redis;

/// <summary>
/// The node's one connection to Redis (StackExchange.Redis multiplexes every caller over it), and the one place that
/// turns Redis failures into <see cref="ProviderUnavailableException"/>, which the host answers with 503.
/// <para>
/// Every request of a node with Redis configured depends on it, so a Redis outage must fail requests quickly rather than
/// hold them: short connect and command timeouts, and commands fail at once while disconnected instead of queueing.
/// <c>AbortOnConnectFail=false</c> keeps the connection object alive through an outage, reconnecting in the
/// background, so the node recovers by itself when Redis is back (and can start before Redis does).
/// </para>
/// </summary>
public sealed class RedisConnection : IAsyncDisposable
{
    public const string ProviderName = "Redis";

    /// <summary>
    /// The start of a Lua script that sets <c>now</c> to the Redis server's clock in microseconds (<c>TIME</c>), so that
    /// what a script computes from time never depends on which node sent it.
    /// </summary>
    internal const string ServerClockScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

        """;

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);

    private readonly ConfigurationOptions _configuration;
    private readonly RedisKey _keyPrefix;
    private readonly Lock _gate = new();
    private Task<ConnectionMultiplexer>? _connection;

    public RedisConnection(RedisOptions options)
    {
        _configuration = Parse(options);
        _keyPrefix = options.KeyPrefix ?? "";
    }

    /// <summary>
    /// Checks <c>Berth:Redis</c> at start-up and returns the connection settings: the user's string, with Berth's
    /// defaults for the settings it does not name (timeouts), and the settings recovery depends on always applied.
    /// </summary>
    public static ConfigurationOptions Parse(RedisOptions options)
    {
        if (!options.IsConfigured)
            throw new InvalidOperationException("Berth:Redis:Configuration is empty; set it to a Redis server such as \"localhost:6379\", or remove it to keep counters in memory.");
        if (options.KeyPrefix is { } prefix && prefix.Any(char.IsWhiteSpace))
            throw new InvalidOperationException($"Berth:Redis:KeyPrefix \"{prefix}\" must not contain white space (the default is \"{RedisOptions.DefaultKeyPrefix}\").");
        ConfigurationOptions parsed;
        try
        {
            parsed = ConfigurationOptions.Parse(options.Configuration!);
        }
        catch (ArgumentException e)
        {
            // The message leaves the string out: it may hold a password.
            throw new InvalidOperationException(
                $"Berth:Redis:Configuration is not a valid StackExchange.Redis configuration string: {e.Message} " +
                "(for example \"localhost:6379\" or \"redis.example.com:6380,password=...,ssl=true\").", e);
        }
        if (parsed.EndPoints.Count == 0)
            throw new InvalidOperationException("Berth:Redis:Configuration names no server; start it with host:port, for example \"localhost:6379\".");

        var text = options.Configuration!;
        var timeout = (int)DefaultTimeout.TotalMilliseconds;
        if (!Names(text, "connectTimeout")) parsed.ConnectTimeout = timeout;
        if (!Names(text, "syncTimeout")) parsed.SyncTimeout = timeout;
        if (!Names(text, "asyncTimeout")) parsed.AsyncTimeout = timeout;
        if (!Names(text, "name")) parsed.ClientName = "berth";
        parsed.AbortOnConnectFail = false;
        parsed.BacklogPolicy = BacklogPolicy.FailFast;
        // Try to reconnect every second: an outage costs every request, so the node should notice the return quickly.
        parsed.ReconnectRetryPolicy = new LinearRetry(1000);
        return parsed;
    }

    /// <summary>Runs one Redis operation on the prefixed database; connection failures and timeouts become 503s.</summary>
    public async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> operation)
    {
        var connection = await ConnectAsync();
        try
        {
            return await operation(connection.GetDatabase().WithKeyPrefix(_keyPrefix));
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new ProviderUnavailableException(ProviderName, Describe(e), e);
        }
    }

    /// <summary>Whether Redis answers now (for the readiness probe).</summary>
    public async Task<bool> IsReadyAsync()
    {
        try
        {
            await RunAsync(database => database.PingAsync());
            return true;
        }
        catch (ProviderUnavailableException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { IsCompletedSuccessfully: true } connected)
            await connected.Result.DisposeAsync();
    }

    /// <summary>
    /// The connection, made on first use. With <c>AbortOnConnectFail=false</c> a connect returns even when Redis is down
    /// and the connection keeps retrying by itself; should the connect itself fail (a host name that does not resolve
    /// yet), the next request tries again rather than the node failing for good.
    /// </summary>
    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        Task<ConnectionMultiplexer> connecting;
        lock (_gate)
        {
            if (_connection is null || _connection.IsFaulted || _connection.IsCanceled)
                _connection = ConnectionMultiplexer.ConnectAsync(_configuration);
            connecting = _connection;
        }
        try
        {
            return await connecting;
        }
        catch (Exception e)
        {
            throw new ProviderUnavailableException(ProviderName, $"cannot connect ({e.GetType().Name}: {e.Message})", e);
        }
    }

    private static bool IsUnavailable(Exception e) => e switch
    {
        RedisConnectionException or RedisTimeoutException => true,
        // Replies of a server that is starting, failing over or stuck in a script: transient, like a lost connection.
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("READONLY", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || server.Message.StartsWith("BUSY", StringComparison.Ordinal)
            || server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal),
        _ => false,
    };

    private static string Describe(Exception e) => e switch
    {
        RedisTimeoutException => "no answer within the timeout",
        RedisConnectionException connection => $"no connection to the server ({connection.FailureType})",
        _ => $"the server refused the command ({e.Message.Split(' ', 2)[0]})",
    };

    private static bool Names(string configuration, string setting) =>
        configuration.Split(',').Any(part => part.TrimStart().StartsWith(setting + "=", StringComparison.OrdinalIgnoreCase));
}
