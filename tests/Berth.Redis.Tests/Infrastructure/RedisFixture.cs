using StackExchange.Redis;

namespace Berth.Redis.Tests.Infrastructure;

/// <summary>A connection to the test process's Redis under a key prefix of its own, plus a plain client to inspect keys.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisConnection Connection { get; private set; } = null!;
    public string KeyPrefix { get; } = RedisServer.NewKeyPrefix();
    public IDatabase Inspect { get; private set; } = null!;
    private ConnectionMultiplexer? _inspector;

    public async Task InitializeAsync()
    {
        var server = await RedisServer.GetAsync();
        Connection = new RedisConnection(new RedisOptions { Configuration = server.Configuration, KeyPrefix = KeyPrefix });
        _inspector = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        Inspect = _inspector.GetDatabase();
    }

    public async Task DisposeAsync()
    {
        await Connection.DisposeAsync();
        if (_inspector is not null) await _inspector.DisposeAsync();
    }
}
