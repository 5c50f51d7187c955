using Berth.Testing;

namespace Berth.Conformance.Tests.TestSupport;

/// <summary>
/// <see cref="RegistryFixture"/> with the metadata in PostgreSQL: a database of its own in the test process's
/// <see cref="PostgreSqlServer"/>, created before the server starts and dropped after it stops.
/// </summary>
public sealed class PostgreSqlRegistryFixture : RegistryFixture
{
    private PostgreSqlServer? _postgres;
    private string? _connectionString;

    protected override IEnumerable<string> ExtraArguments =>
        ["--Berth:Database:Type=PostgreSql", "--Berth:Database:ConnectionString=" + _connectionString];

    public override async Task InitializeAsync()
    {
        _postgres = await PostgreSqlServer.GetAsync();
        _connectionString = await _postgres.CreateDatabaseAsync("conformance");
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (_postgres is not null && _connectionString is not null)
                await _postgres.DropDatabaseAsync(_connectionString);
        }
    }
}
