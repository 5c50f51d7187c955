using Berth.Core.Content;
using Berth.Core.Storage;
using Berth.Metadata.Sql;

namespace Berth.Metadata.PostgreSql.Tests;

/// <summary>The content lock contract (the same tests as SQLite's) on the PostgreSQL provider, one database per test.</summary>
public sealed class PostgreSqlContentLockStoreTests : ContentLockStoreContractTests
{
    private TestDatabase? _database;

    protected override async Task<(IMetadataStore Metadata, IRepositoryDetailsStore Details)> CreateStoresAsync()
    {
        _database = await TestDatabase.CreateAsync();
        var database = _database.Open();
        return (new SqlMetadataStore(database, TimeProvider.System), new SqlRepositoryDetailsStore(database, TimeProvider.System));
    }

    public override async Task DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }
}
