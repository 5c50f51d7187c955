using Berth.Core.Storage;
using Berth.Core.Tests.Identity;
using Berth.Metadata.Sql;
using Berth.Metadata.Sqlite;
using Berth.Testing;

namespace Berth.Core.Tests.ArtifactCache;

/// <summary>The artifact cache store contract on the SQLite provider, over a database file in a temporary folder.</summary>
public sealed class SqliteArtifactCacheStoreTests : ArtifactCacheStoreContractTests
{
    private readonly TempFolder _folder = new();

    protected override Task<(IArtifactCacheStore Store, IMetadataStore Metadata)> CreateStoresAsync()
    {
        var database = new SqliteDatabase(Path.Combine(_folder.Path, "berth.db"));
        return Task.FromResult<(IArtifactCacheStore, IMetadataStore)>((new SqlArtifactCacheStore(database), new SqlMetadataStore(database, TimeProvider.System)));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _folder.Dispose();
    }
}
