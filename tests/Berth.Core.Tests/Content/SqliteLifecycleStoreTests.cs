using Berth.Core.Storage;
using Berth.Core.Tests.Identity;
using Berth.Metadata.Sql;
using Berth.Metadata.Sqlite;
using Berth.Testing;

namespace Berth.Core.Tests.Content;

/// <summary>The content lifecycle contract on the SQLite provider, over a database file in a temporary folder.</summary>
public sealed class SqliteLifecycleStoreTests : LifecycleStoreContractTests
{
    private readonly TempFolder _folder = new();

    protected override Task<(IMetadataStore Metadata, IRepositoryDetailsStore Details, IDeletedContentStore Deleted)> CreateStoresAsync(TimeProvider clock)
    {
        var database = new SqliteDatabase(Path.Combine(_folder.Path, "berth.db"));
        return Task.FromResult<(IMetadataStore, IRepositoryDetailsStore, IDeletedContentStore)>(
            (new SqlMetadataStore(database, clock), new SqlRepositoryDetailsStore(database, clock), new SqlDeletedContentStore(database, clock)));
    }

    public override Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }
}
