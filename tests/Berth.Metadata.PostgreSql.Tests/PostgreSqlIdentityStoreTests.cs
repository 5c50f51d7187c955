using Berth.Core.Identity;
using Berth.Metadata.Sql;
using Berth.Core.Storage;

namespace Berth.Metadata.PostgreSql.Tests;

/// <summary>The identity store contract (the same tests as SQLite's) on the PostgreSQL provider, one database per test.</summary>
public sealed class PostgreSqlIdentityStoreTests : IdentityStoreContractTests
{
    private TestDatabase? _database;

    protected override async Task<IIdentityStore> CreateStoreAsync()
    {
        _database = await TestDatabase.CreateAsync();
        return new SqlIdentityStore(_database.Open());
    }

    protected override IIdentityStore Reopen() => new SqlIdentityStore(_database!.Open());

    public override async Task DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
    }
}
