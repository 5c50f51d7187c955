using Berth.Core.Storage;
using Berth.Metadata.Sql;

namespace Berth.Metadata.PostgreSql.Tests;

/// <summary>The content lifecycle contract (the same tests as SQLite's) on the PostgreSQL provider, one database per test.</summary>
public sealed class PostgreSqlLifecycleStoreTests : LifecycleStoreContractTests
{
    private TestDatabase? _database;

    protected override async Task<(IMetadataStore Metadata, IRepositoryDetailsStore Details, IDeletedContentStore Deleted)> CreateStoresAsync(TimeProvider clock)
    {
        _database = await TestDatabase.CreateAsync();
        var database = _database.Open();
        return (new SqlMetadataStore(database, clock), new SqlRepositoryDetailsStore(database, clock), new SqlDeletedContentStore(database, clock));
    }

    public override async Task DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }
}
