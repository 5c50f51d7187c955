using Berth.Core.Storage;
using Berth.Metadata.Sql;
using Berth.Oci;
using Npgsql;

namespace Berth.Metadata.PostgreSql.Tests;

/// <summary>Migrations at start-up, and the orderings that must match SQLite's so pagination returns the same pages.</summary>
public sealed class PostgreSqlSchemaTests
{
    [Fact]
    public async Task Migrations_RunOnceEach_AndReopeningChangesNothing()
    {
        await using var database = await TestDatabase.CreateAsync();
        database.Open();
        database.Open();
        Assert.Equal(Enumerable.Range(1, PostgreSqlSchema.LatestVersion), await VersionsAsync(database.ConnectionString));
    }

    [Fact]
    public async Task NodesStartingTogether_MigrateOneAfterTheOther()
    {
        await using var database = await TestDatabase.CreateAsync();
        // Without the advisory lock, the losers fail on CREATE TABLE of a table another node just made.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(database.Open)));
        Assert.Equal(Enumerable.Range(1, PostgreSqlSchema.LatestVersion), await VersionsAsync(database.ConnectionString));
    }

    [Fact]
    public async Task NewerSchema_StopsStartUpWithAClearMessage()
    {
        await using var database = await TestDatabase.CreateAsync();
        database.Open();
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"INSERT INTO schema_version (version) VALUES ({PostgreSqlSchema.LatestVersion + 1});", connection);
            await command.ExecuteNonQueryAsync();
        }
        var error = Assert.Throws<InvalidOperationException>(database.Open);
        Assert.Contains("newer than this Berth knows", error.Message);
    }

    /// <summary>Unavailable, not misconfigured: start-up may wait for it (StartupDependencies), and the message names where it looked.</summary>
    [Fact]
    public void UnreachableServer_IsUnavailableNamingHostAndDatabase()
    {
        var error = Assert.Throws<ProviderUnavailableException>(() => new PostgreSqlDatabase("Host=127.0.0.1;Port=1;Database=nowhere;Username=x;Timeout=2"));
        Assert.Equal("PostgreSQL", error.Provider);
        Assert.Contains("127.0.0.1", error.Message);
        Assert.Contains("nowhere", error.Message);
    }

    /// <summary>A refusal that will not pass by itself stops start-up at once instead of being waited for.</summary>
    [Fact]
    public async Task UnknownDatabase_StopsStartUpAtOnce()
    {
        await using var database = await TestDatabase.CreateAsync();
        var missing = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Database = "missing_" + Guid.NewGuid().ToString("N")[..8] }.ConnectionString;
        var error = Assert.Throws<InvalidOperationException>(() => new PostgreSqlDatabase(missing));
        Assert.StartsWith("PostgreSQL: cannot open the metadata database", error.Message);
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public async Task RegistrySize_CountsEachBlobAndManifestOnce_AndOnlyThatRegistrys()
    {
        await using var database = await TestDatabase.CreateAsync();
        var store = new SqlMetadataStore(database.Open(), TimeProvider.System);
        var content = System.Text.Encoding.UTF8.GetBytes("{\"schemaVersion\":2}");
        var manifest = new StoredManifest(Digest.Compute(content), "application/vnd.oci.image.manifest.v1+json", content, null, null, null, DateTimeOffset.UtcNow);
        var layer = Digest.Compute([1, 2, 3]);
        foreach (var repository in new[] { "one", "two" })
        {
            await store.LinkBlobAsync(new RepositoryKey("reg1", repository), layer, 1_000_000, default);
            await store.PutManifestAsync(new RepositoryKey("reg1", repository), new ManifestWrite(manifest, [], [], "v1"), default);
        }
        await store.LinkBlobAsync(new RepositoryKey("reg2", "other"), Digest.Compute([4]), 77, default);

        Assert.Equal(1_000_000 + content.Length, await store.GetRegistrySizeAsync("reg1", default));
        Assert.Equal(77, await store.GetRegistrySizeAsync("reg2", default));
        Assert.Equal(0, await store.GetRegistrySizeAsync("reg3", default));
    }

    [Fact]
    public async Task TagsAndRepositories_AreOrderedByteWise_AsInSqlite()
    {
        await using var database = await TestDatabase.CreateAsync();
        var store = new SqlMetadataStore(database.Open(), TimeProvider.System);
        var names = new[] { "b", "B", "a", "_x", "a-b", "a.b", "a_b", "A1", "1" };
        foreach (var name in names)
        {
            var content = System.Text.Encoding.UTF8.GetBytes("{\"n\":\"" + name + "\"}");
            var manifest = new StoredManifest(Digest.Compute(content), "application/vnd.oci.image.manifest.v1+json", content, null, null, null, DateTimeOffset.UtcNow);
            await store.PutManifestAsync(new RepositoryKey("reg1", "repo"), new ManifestWrite(manifest, [], [], name), default);
            await store.LinkBlobAsync(new RepositoryKey("reg1", name.ToLowerInvariant() + "/r"), manifest.Digest, content.Length, default);
        }
        var ordinal = names.Order(StringComparer.Ordinal).ToList();
        Assert.Equal(ordinal, await store.ListTagsAsync(new RepositoryKey("reg1", "repo"), 100, null, default));
        // Pages of 2 with last= give the same sequence.
        var paged = new List<string>();
        string? last = null;
        while (true)
        {
            var page = await store.ListTagsAsync(new RepositoryKey("reg1", "repo"), 2, last, default);
            if (page.Count == 0) break;
            paged.AddRange(page);
            last = page[^1];
        }
        Assert.Equal(ordinal, paged);
        var repositories = await store.ListRepositoriesAsync("reg1", 100, null, default);
        Assert.Equal(repositories.Order(StringComparer.Ordinal), repositories);
    }

    private static async Task<List<int>> VersionsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version FROM schema_version ORDER BY version;", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync()) versions.Add(reader.GetInt32(0));
        return versions;
    }
}
