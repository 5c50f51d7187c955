using Berth.Core.Identity;
using Berth.Core.Registries;
using Berth.Core.Storage;

namespace Berth.Core.Tests.Identity;

public sealed class IdentityServiceTests : IDisposable
{
    private const string Reg = IdentityFixture.RegistryName;
    private readonly IdentityFixture _fixture = new();
    private IdentityService Identities => _fixture.Identities;

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task AdminUser_IsDisabledByDefault()
    {
        Assert.Equal(new AdminUser(Reg, false), await Identities.GetAdminUserAsync(Reg, default));
        Assert.Null(await Identities.GetAdminCredentialsOrNullAsync(Reg, default));
    }

    [Fact]
    public async Task EnablingAdmin_CreatesTwoDistinctPasswords()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        var credentials = await Identities.GetAdminCredentialsOrNullAsync(Reg, default);
        Assert.Equal(Reg, credentials!.Username);
        Assert.Equal(52, credentials.Password.Length);
        Assert.NotEqual(credentials.Password, credentials.Password2);
    }

    [Fact]
    public async Task AdminPasswords_AreNotStoredInClear()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        var credentials = await Identities.GetAdminCredentialsOrNullAsync(Reg, default);
        var stored = await _fixture.Store.GetAdminUserOrNullAsync(Reg, default);
        Assert.DoesNotContain(credentials!.Password, stored!.Password!.Secret);
    }

    [Fact]
    public async Task ReenablingAdmin_KeepsPasswords()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        var before = await Identities.GetAdminCredentialsOrNullAsync(Reg, default);
        await Identities.SetAdminUserEnabledAsync(Reg, false, default);
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        Assert.Equal(before, await Identities.GetAdminCredentialsOrNullAsync(Reg, default));
    }

    [Fact]
    public async Task RegeneratePassword2_ChangesOnlyPassword2()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        var before = await Identities.GetAdminCredentialsOrNullAsync(Reg, default);
        var after = await Identities.RegenerateAdminPasswordAsync(Reg, "password2", default);
        Assert.Equal(before!.Password, after.Password);
        Assert.NotEqual(before.Password2, after.Password2);
    }

    [Fact]
    public async Task RegenerateWhileDisabled_Throws()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.RegenerateAdminPasswordAsync(Reg, "password", default));
        Assert.Equal(IdentityErrorCode.AdminUserDisabled, e.Code);
    }

    [Fact]
    public async Task RegenerateTokenPasswordName_IsRejectedForAdmin()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.RegenerateAdminPasswordAsync(Reg, "password1", default));
        Assert.Equal(IdentityErrorCode.InvalidArgument, e.Code);
    }

    [Fact]
    public async Task ListScopeMaps_StartsWithSystemMaps()
    {
        await Identities.PutScopeMapAsync(Reg, RegistrySku.Basic, "mymap1", "mine", ["repositories/a/content/read"], default);
        var names = (await Identities.ListScopeMapsAsync(Reg, default)).Select(m => m.Name).ToList();
        Assert.Equal(6, names.Count);
        Assert.Equal("_repositories_admin", names[0]);
        Assert.Equal("mymap1", names[5]);
    }

    [Fact]
    public async Task PutScopeMap_StoresCanonicalDeduplicatedActions()
    {
        var map = await Identities.PutScopeMapAsync(Reg, RegistrySku.Basic, "mymap1", null,
            ["Repositories/A/Content/Read", "repositories/a/content/read", "repositories/b/*/metadata/write"], default);
        Assert.Equal(["repositories/a/content/read", "repositories/b/*/metadata/write"], map.Actions);
        Assert.Equal(ScopeMapType.UserDefined, map.Type);
    }

    [Fact]
    public async Task PutScopeMap_InvalidAction_Throws()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() =>
            Identities.PutScopeMapAsync(Reg, RegistrySku.Basic, "mymap1", null, ["repositories/a/*/b/content/read"], default));
        Assert.Equal(IdentityErrorCode.InvalidAction, e.Code);
    }

    [Fact]
    public async Task PutScopeMap_NoActions_Throws()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.PutScopeMapAsync(Reg, RegistrySku.Basic, "mymap1", null, [], default));
        Assert.Equal(IdentityErrorCode.InvalidAction, e.Code);
    }

    [Fact]
    public async Task PutScopeMap_SystemName_IsReadOnly()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() =>
            Identities.PutScopeMapAsync(Reg, RegistrySku.Basic, "_repositories_pull", null, ["repositories/a/content/read"], default));
        Assert.Equal(IdentityErrorCode.SystemScopeMapReadOnly, e.Code);
    }

    [Fact]
    public async Task DeleteSystemScopeMap_IsReadOnly()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.DeleteScopeMapAsync(Reg, "_repositories_admin", default));
        Assert.Equal(IdentityErrorCode.SystemScopeMapReadOnly, e.Code);
    }

    [Fact]
    public async Task PutScopeMap_BadName_Throws()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() =>
            Identities.PutScopeMapAsync(Reg, RegistrySku.Basic, "map", null, ["repositories/a/content/read"], default));
        Assert.Equal(IdentityErrorCode.InvalidName, e.Code);
    }

    [Fact]
    public async Task PutScopeMap_Over500Actions_Throws()
    {
        var actions = Enumerable.Range(0, 501).Select(i => $"repositories/r{i}/content/read").ToList();
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.PutScopeMapAsync(Reg, RegistrySku.Premium, "mymap1", null, actions, default));
        Assert.Equal(IdentityErrorCode.LimitExceeded, e.Code);
    }

    [Fact]
    public async Task ScopeMapCount_IsLimitedPerTier()
    {
        for (var i = 0; i < 100; i++)
            await _fixture.Store.PutScopeMapAsync(new ScopeMapRecord(Reg, $"map{i:000}", null, ["repositories/a/content/read"], DateTimeOffset.UnixEpoch, 0), default);
        var e = await Assert.ThrowsAsync<IdentityException>(() =>
            Identities.PutScopeMapAsync(Reg, RegistrySku.Basic, "onemore", null, ["repositories/a/content/read"], default));
        Assert.Equal(IdentityErrorCode.LimitExceeded, e.Code);
        Assert.Equal("onemore", (await Identities.PutScopeMapAsync(Reg, RegistrySku.Standard, "onemore", null, ["repositories/a/content/read"], default)).Name);
    }

    [Fact]
    public async Task TokenCount_IsLimitedPerTier()
    {
        for (var i = 0; i < 100; i++)
            await _fixture.Store.PutTokenAsync(new TokenRecord(Reg, $"token{i:000}", "_repositories_pull", true, DateTimeOffset.UnixEpoch, null, null, 0), default);
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.PutTokenAsync(Reg, RegistrySku.Basic, "onemore", "_repositories_pull", true, default));
        Assert.Equal(IdentityErrorCode.LimitExceeded, e.Code);
    }

    [Fact]
    public async Task UpdateScopeMap_ReplacesActionsAndKeepsDescription()
    {
        await Identities.PutScopeMapAsync(Reg, RegistrySku.Basic, "mymap1", "keep me", ["repositories/a/content/read"], default);
        var updated = await Identities.UpdateScopeMapAsync(Reg, RegistrySku.Basic, "mymap1", null, ["repositories/b/content/read"], default);
        Assert.Equal(["repositories/b/content/read"], updated.Actions);
        Assert.Equal("keep me", updated.Description);
    }

    [Fact]
    public async Task UpdateMissingScopeMap_IsNotFound()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.UpdateScopeMapAsync(Reg, RegistrySku.Basic, "mymap1", "x", null, default));
        Assert.Equal(IdentityErrorCode.NotFound, e.Code);
    }

    [Fact]
    public async Task DeleteScopeMapInUse_Throws()
    {
        await Identities.PutScopeMapAsync(Reg, RegistrySku.Basic, "mymap1", null, ["repositories/a/content/read"], default);
        await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "mymap1", true, default);
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.DeleteScopeMapAsync(Reg, "mymap1", default));
        Assert.Equal(IdentityErrorCode.ScopeMapInUse, e.Code);
        Assert.Contains("\"mytoken\"", e.Message);
    }

    [Fact]
    public async Task PutToken_WithUnknownScopeMap_IsNotFound()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "nomap1", true, default));
        Assert.Equal(IdentityErrorCode.NotFound, e.Code);
    }

    [Fact]
    public async Task PutToken_BadName_Throws()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.PutTokenAsync(Reg, RegistrySku.Basic, "my_token", "_repositories_pull", true, default));
        Assert.Equal(IdentityErrorCode.InvalidName, e.Code);
    }

    [Fact]
    public async Task NewToken_HasNoPasswords()
    {
        var token = await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "_repositories_pull", true, default);
        Assert.Empty(token.Passwords);
        Assert.Equal("_repositories_pull", token.ScopeMapName);
    }

    [Fact]
    public async Task GenerateWithoutName_CreatesBothPasswords()
    {
        await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "_repositories_pull", true, default);
        var generated = await Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", null, null, default);
        Assert.Equal("mytoken", generated.Username);
        Assert.Equal(["password1", "password2"], generated.Passwords.Select(p => p.Name));
        Assert.Equal(2, (await Identities.GetTokenOrNullAsync(Reg, "mytoken", default))!.Passwords.Count);
    }

    [Fact]
    public async Task TokenPasswords_AreStoredAsSaltedSha256Hashes()
    {
        // Generated passwords carry about 309 bits, so a slow hash adds no protection, only cost per check.
        await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "_repositories_pull", true, default);
        var generated = await Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", "password1", null, default);
        var stored = await _fixture.Store.GetTokenOrNullAsync(Reg, "mytoken", default);
        Assert.StartsWith("$sha256$v=1$", stored!.Password1!.Secret);
        Assert.DoesNotContain(generated.Passwords[0].Value, stored.Password1.Secret);
    }

    [Fact]
    public async Task GenerateOnePassword_KeepsTheOther()
    {
        await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "_repositories_pull", true, default);
        await Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", null, null, default);
        var before = await _fixture.Store.GetTokenOrNullAsync(Reg, "mytoken", default);
        await Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", "password2", null, default);
        var after = await _fixture.Store.GetTokenOrNullAsync(Reg, "mytoken", default);
        Assert.Equal(before!.Password1, after!.Password1);
        Assert.NotEqual(before.Password2, after.Password2);
    }

    [Fact]
    public async Task GenerateWithExpiry_RecordsIt()
    {
        await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "_repositories_pull", true, default);
        var expiry = _fixture.Time.GetUtcNow().AddDays(7);
        var generated = await Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", "password1", expiry, default);
        Assert.Equal(expiry, generated.Passwords[0].Expiry);
        Assert.Equal(expiry, (await Identities.GetTokenOrNullAsync(Reg, "mytoken", default))!.Passwords[0].Expiry);
    }

    [Fact]
    public async Task GenerateWithPastExpiry_Throws()
    {
        await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "_repositories_pull", true, default);
        var e = await Assert.ThrowsAsync<IdentityException>(() =>
            Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", null, _fixture.Time.GetUtcNow().AddSeconds(-1), default));
        Assert.Equal(IdentityErrorCode.InvalidArgument, e.Code);
    }

    [Fact]
    public async Task GenerateForMissingToken_IsNotFound()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() => Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", null, null, default));
        Assert.Equal(IdentityErrorCode.NotFound, e.Code);
    }

    [Fact]
    public async Task UpdateKeepPasswords_DropsUnlistedPasswords()
    {
        await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "_repositories_pull", true, default);
        await Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", null, null, default);
        var token = await Identities.UpdateTokenAsync(Reg, "mytoken", new TokenUpdate(KeepPasswords: ["password2"]), default);
        Assert.Equal(["password2"], token.Passwords.Select(p => p.Name));
    }

    [Fact]
    public async Task UpdateToken_ChangesStatusAndScopeMap()
    {
        await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "_repositories_pull", true, default);
        var token = await Identities.UpdateTokenAsync(Reg, "mytoken", new TokenUpdate("_repositories_push", false), default);
        Assert.False(token.Enabled);
        Assert.Equal("_repositories_push", token.ScopeMapName);
    }

    [Fact]
    public async Task PutExistingToken_KeepsPasswordsAndCreationDate()
    {
        var created = await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "_repositories_pull", true, default);
        await Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", null, null, default);
        _fixture.Time.Advance(TimeSpan.FromHours(1));
        var replaced = await Identities.PutTokenAsync(Reg, RegistrySku.Basic, "mytoken", "_repositories_push", false, default);
        Assert.Equal(2, replaced.Passwords.Count);
        Assert.Equal(created.CreationDate, replaced.CreationDate);
    }
}
