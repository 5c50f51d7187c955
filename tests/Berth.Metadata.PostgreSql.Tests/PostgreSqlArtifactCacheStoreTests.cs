using Berth.Core.Storage;
using Berth.Metadata.Sql;

namespace Berth.Metadata.PostgreSql.Tests;

/// <summary>The artifact cache store contract (the same tests as SQLite's) on the PostgreSQL provider, one database per test.</summary>
public sealed class PostgreSqlArtifactCacheStoreTests : ArtifactCacheStoreContractTests
{
    private TestDatabase? _database;

    protected override async Task<(IArtifactCacheStore Store, IMetadataStore Metadata)> CreateStoresAsync()
    {
        _database = await TestDatabase.CreateAsync();
        var database = _database.Open();
        return (new SqlArtifactCacheStore(database), new SqlMetadataStore(database, TimeProvider.System));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null) await _database.DisposeAsync();
    }
}
