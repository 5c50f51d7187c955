using Berth.Core.Storage;
using Berth.Core.Tests.Identity;
using Berth.Core.Content;
using Berth.Metadata.Sql;
using Berth.Metadata.Sqlite;
using Berth.Testing;

namespace Berth.Core.Tests.Content;

/// <summary>The content lock contract on the SQLite provider, over a database file in a temporary folder.</summary>
public sealed class SqliteContentLockStoreTests : ContentLockStoreContractTests
{
    private readonly TempFolder _folder = new();

    protected override Task<(IMetadataStore Metadata, IRepositoryDetailsStore Details)> CreateStoresAsync()
    {
        var database = new SqliteDatabase(Path.Combine(_folder.Path, "berth.db"));
        return Task.FromResult<(IMetadataStore, IRepositoryDetailsStore)>((new SqlMetadataStore(database, TimeProvider.System), new SqlRepositoryDetailsStore(database, TimeProvider.System)));
    }

    public override Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }
}
