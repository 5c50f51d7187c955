namespace Berth.Redis.Tests.Infrastructure;

/// <summary>
/// One node of a multi-node installation: a real server over a shared PostgreSQL database, a shared data folder (blob
/// storage and signing keys) and a shared Redis, as several stateless processes behind a load balancer would run.
/// </summary>
public sealed class RedisNode : BerthTestServer
{
    private readonly string[] _arguments;

    public RedisNode(string dataPath, string connectionString, string redisConfiguration, string keyPrefix, IEnumerable<string> extraArguments)
    {
        DataPath = dataPath;
        _arguments =
        [
            "--Berth:Database:Type=PostgreSql",
            "--Berth:Database:ConnectionString=" + connectionString,
            "--Berth:Redis:Configuration=" + redisConfiguration,
            "--Berth:Redis:KeyPrefix=" + keyPrefix,
            .. extraArguments,
        ];
    }

    protected override IEnumerable<string> ExtraArguments => _arguments;
}
