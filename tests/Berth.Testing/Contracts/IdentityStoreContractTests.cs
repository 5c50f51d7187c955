using Berth.Core.Identity;
using Berth.Core.Storage;

namespace Berth.Testing;

/// <summary>
/// What every <see cref="IIdentityStore"/> provider must do, whatever database is behind it. A provider's test class
/// derives from this one and hands each test a fresh, empty store (xUnit makes one instance per test) and a second
/// store over the same database. Every provider's tests share it from here, so it uses public types only.
/// </summary>
public abstract class IdentityStoreContractTests : IAsyncLifetime
{
    protected IIdentityStore Store { get; private set; } = null!;

    /// <summary>A new store over a new, empty database.</summary>
    protected abstract Task<IIdentityStore> CreateStoreAsync();

    /// <summary>A second store over the database of <see cref="Store"/>, as after a restart.</summary>
    protected abstract IIdentityStore Reopen();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);
    private static TokenRecord Token(string name = "mytoken", string scopeMap = "_repositories_pull") =>
        new("reg1", name, scopeMap, true, Created, new StoredPassword("hash1", Created, Created.AddDays(30)), null, 0);

    [Fact]
    public async Task MissingToken_IsNull()
    {
        Assert.Null(await Store.GetTokenOrNullAsync("reg1", "nothere", default));
    }

    [Fact]
    public async Task PutToken_RoundTripsEveryField()
    {
        var stored = await Store.PutTokenAsync(Token(), default);
        var read = await Store.GetTokenOrNullAsync("reg1", "mytoken", default);
        Assert.Equal(stored, read);
        Assert.Equal(Created.AddDays(30), read!.Password1!.Expiry);
        Assert.Null(read.Password2);
        Assert.True(read.Version > 0);
    }

    [Fact]
    public async Task TokenLookup_IsCaseInsensitiveAndKeepsSpelling()
    {
        await Store.PutTokenAsync(Token("MyToken"), default);
        Assert.Equal("MyToken", (await Store.GetTokenOrNullAsync("reg1", "mytoken", default))?.Name);
    }

    [Fact]
    public async Task EveryPut_BumpsVersion()
    {
        var first = await Store.PutTokenAsync(Token(), default);
        var second = await Store.PutTokenAsync(first with { Enabled = false }, default);
        Assert.True(second.Version > first.Version);
    }

    [Fact]
    public async Task RecreatedToken_GetsNewVersion()
    {
        var first = await Store.PutTokenAsync(Token(), default);
        await Store.DeleteTokenAsync("reg1", "mytoken", default);
        var again = await Store.PutTokenAsync(Token(), default);
        Assert.NotEqual(first.Version, again.Version);
    }

    [Fact]
    public async Task Tokens_AreScopedByRegistry()
    {
        await Store.PutTokenAsync(Token(), default);
        Assert.Null(await Store.GetTokenOrNullAsync("reg2", "mytoken", default));
        Assert.Equal(0, await Store.CountTokensAsync("reg2", default));
        Assert.Equal(1, await Store.CountTokensAsync("reg1", default));
    }

    [Fact]
    public async Task ListTokens_IsOrderedByName()
    {
        await Store.PutTokenAsync(Token("tokenb"), default);
        await Store.PutTokenAsync(Token("tokena"), default);
        Assert.Equal(["tokena", "tokenb"], (await Store.ListTokensAsync("reg1", default)).Select(t => t.Name));
    }

    [Fact]
    public async Task DeleteToken_ReportsWhetherItExisted()
    {
        await Store.PutTokenAsync(Token(), default);
        Assert.True(await Store.DeleteTokenAsync("reg1", "mytoken", default));
        Assert.False(await Store.DeleteTokenAsync("reg1", "mytoken", default));
    }

    [Fact]
    public async Task TokensUsingScopeMap_AreListed()
    {
        await Store.PutTokenAsync(Token("tokena", "mymap1"), default);
        await Store.PutTokenAsync(Token("tokenb", "othermap"), default);
        Assert.Equal(["tokena"], await Store.ListTokensUsingScopeMapAsync("reg1", "MYMAP1", 10, default));
    }

    [Fact]
    public async Task PutScopeMap_RoundTripsActions()
    {
        var map = new ScopeMapRecord("reg1", "mymap1", "desc", ["repositories/a/content/read", "repositories/b/*/content/write"], Created, 0);
        var stored = await Store.PutScopeMapAsync(map, default);
        var read = await Store.GetScopeMapOrNullAsync("reg1", "mymap1", default);
        Assert.Equal(map.Actions, read!.Actions);
        Assert.Equal("desc", read.Description);
        Assert.Equal(Created, read.CreatedAt);
        Assert.Equal(stored.Version, read.Version);
    }

    [Fact]
    public async Task ScopeMapCount_AndDelete()
    {
        await Store.PutScopeMapAsync(new ScopeMapRecord("reg1", "mymap1", null, ["repositories/a/content/read"], Created, 0), default);
        Assert.Equal(1, await Store.CountScopeMapsAsync("reg1", default));
        Assert.True(await Store.DeleteScopeMapAsync("reg1", "MyMap1", default));
        Assert.Empty(await Store.ListScopeMapsAsync("reg1", default));
    }

    [Fact]
    public async Task AdminUser_RoundTrips()
    {
        var admin = new AdminUserRecord("reg1", true, new StoredPassword("enc1", Created, null), new StoredPassword("enc2", Created, null), 0);
        var stored = await Store.PutAdminUserAsync(admin, default);
        Assert.Equal(stored, await Store.GetAdminUserOrNullAsync("reg1", default));
        Assert.Null(await Store.GetAdminUserOrNullAsync("reg2", default));
    }

    [Fact]
    public async Task DeleteRegistry_RemovesAllItsIdentities()
    {
        await Store.PutTokenAsync(Token(), default);
        await Store.PutTokenAsync(Token() with { Registry = "reg2" }, default);
        await Store.PutScopeMapAsync(new ScopeMapRecord("reg1", "mymap1", null, ["repositories/a/content/read"], Created, 0), default);
        await Store.PutAdminUserAsync(new AdminUserRecord("reg1", true, null, null, 0), default);
        await Store.DeleteRegistryAsync("reg1", default);
        Assert.Empty(await Store.ListTokensAsync("reg1", default));
        Assert.Empty(await Store.ListScopeMapsAsync("reg1", default));
        Assert.Null(await Store.GetAdminUserOrNullAsync("reg1", default));
        Assert.Single(await Store.ListTokensAsync("reg2", default));
    }

    [Fact]
    public async Task ListTokens_OrderIgnoresCase()
    {
        await Store.PutTokenAsync(Token("TokenB"), default);
        await Store.PutTokenAsync(Token("tokena"), default);
        await Store.PutTokenAsync(Token("tokenC"), default);
        Assert.Equal(["tokena", "TokenB", "tokenC"], (await Store.ListTokensAsync("reg1", default)).Select(t => t.Name));
    }

    [Fact]
    public async Task ScopeMapLookup_IsCaseInsensitiveAndKeepsSpelling()
    {
        var first = await Store.PutScopeMapAsync(new ScopeMapRecord("reg1", "MyMap", null, ["repositories/a/content/read"], Created, 0), default);
        var second = await Store.PutScopeMapAsync(new ScopeMapRecord("reg1", "mymap", "changed", ["repositories/b/content/read"], Created, 0), default);
        var read = await Store.GetScopeMapOrNullAsync("reg1", "MYMAP", default);
        Assert.Equal("MyMap", read!.Name);
        Assert.Equal("changed", read.Description);
        Assert.True(second.Version > first.Version);
        Assert.Equal(1, await Store.CountScopeMapsAsync("reg1", default));
    }

    [Fact]
    public async Task Data_SurvivesReopeningTheDatabase()
    {
        await Store.PutTokenAsync(Token(), default);
        Assert.NotNull(await Reopen().GetTokenOrNullAsync("reg1", "mytoken", default));
    }
}
