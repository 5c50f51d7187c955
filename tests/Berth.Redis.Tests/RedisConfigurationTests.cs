using Berth.Server.Hosting;
using Berth.Server.Configuration;
using Berth.Server;

namespace Berth.Redis.Tests;

/// <summary>Bad Redis settings stop start-up with a message naming the setting, before any request.</summary>
public sealed class RedisConfigurationTests
{
    [Theory]
    [InlineData("localhost:6379,connectTimeout=abc", "Berth:Redis:Configuration is not a valid StackExchange.Redis configuration string")]
    [InlineData(",,,", "Berth:Redis:Configuration names no server")]
    public void InvalidConfiguration_StopsStartUpNamingTheSetting(string configuration, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => BerthApp.Build(["--Berth:DataPath=" + TempFolder(), "--Berth:Redis:Configuration=" + configuration]));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void KeyPrefixWithSpaces_StopsStartUp()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            BerthApp.Build(["--Berth:DataPath=" + TempFolder(), "--Berth:Redis:Configuration=localhost:6379", "--Berth:Redis:KeyPrefix=my prefix"]));
        Assert.Contains("Berth:Redis:KeyPrefix", error.Message);
    }

    [Fact]
    public void Parse_KeepsBerthsRecoverySettings_AndTheUsersTimeouts()
    {
        var parsed = RedisConnection.Parse(new RedisOptions { Configuration = "localhost:6379,abortConnect=true,syncTimeout=9000" });

        Assert.False(parsed.AbortOnConnectFail);
        Assert.Equal(9000, parsed.SyncTimeout);
        Assert.Equal(2000, parsed.ConnectTimeout);
    }

    private static string TempFolder() => Path.Combine(Path.GetTempPath(), "berth-redis-config-" + Guid.NewGuid().ToString("N")[..8]);
}
