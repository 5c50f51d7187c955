using Berth.Core.Identity;
using Berth.Metadata.Sql;
using Berth.Metadata.Sqlite;
using Berth.Testing;
using Berth.Core.Storage;

namespace Berth.Core.Tests.Identity;

/// <summary>The identity store contract on the SQLite provider, over a database file in a temporary folder.</summary>
public sealed class SqliteIdentityStoreTests : IdentityStoreContractTests
{
    private readonly IdentityFixture _fixture = new();

    protected override Task<IIdentityStore> CreateStoreAsync() => Task.FromResult<IIdentityStore>(_fixture.Store);

    protected override IIdentityStore Reopen() => new SqlIdentityStore(new SqliteDatabase(Path.Combine(_fixture.FolderPath, "berth.db")));

    public override Task DisposeAsync()
    {
        _fixture.Dispose();
        return Task.CompletedTask;
    }
}
