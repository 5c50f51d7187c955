using Berth.Core.Identity;
using Berth.Core.Identity.Tokens;
using Berth.Core.Registries;
using Berth.Core.Storage;

namespace Berth.Core.Tests.Identity;

public sealed class AuthenticationServiceTests : IDisposable
{
    private const string Reg = IdentityFixture.RegistryName;
    private readonly IdentityFixture _fixture = new();
    private AuthenticationService Auth => _fixture.Authentication;
    private IdentityService Identities => _fixture.Identities;
    private RegistryContext Registry => _fixture.Registry;

    public void Dispose() => _fixture.Dispose();

    private async Task<string> CreateTokenAsync(string scopeMap = SystemScopeMaps.Pull, DateTimeOffset? expiry = null, string name = "mytoken")
    {
        await Identities.PutTokenAsync(Reg, RegistrySku.Standard, name, scopeMap, true, default);
        var generated = await Identities.GenerateTokenPasswordsAsync(Reg, name, null, expiry, default);
        return generated.Passwords[0].Value;
    }

    private Task<AuthenticationResult> BasicAsync(string user, string password) => Auth.AuthenticateBasicAsync(Registry, user, password, default);

    [Fact]
    public async Task Admin_WithEitherPassword_Authenticates()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        var credentials = await Identities.GetAdminCredentialsOrNullAsync(Reg, default);
        var first = await BasicAsync(Reg, credentials!.Password);
        var second = await BasicAsync(Reg, credentials.Password2);
        Assert.Equal(PrincipalKind.Admin, first.Principal!.Kind);
        Assert.Equal("password", first.Principal.Credential);
        Assert.Equal("password2", second.Principal!.Credential);
        Assert.True(first.Principal.Permissions.AllowsRegistry(ScopeNames.Catalog));
    }

    [Fact]
    public async Task TokenWithALegacyPbkdf2Hash_StillAuthenticates()
    {
        // A database written before the salted SHA-256 format keeps its token passwords working.
        await CreateTokenAsync();
        var record = await _fixture.Store.GetTokenOrNullAsync(Reg, "mytoken", default);
        await _fixture.Store.PutTokenAsync(record! with { Password1 = record.Password1! with { Secret = CredentialTests.LegacyPbkdf2Hash("legacy-password", 1000) } }, default);

        var result = await BasicAsync("mytoken", "legacy-password");

        Assert.True(result.Succeeded);
        Assert.Equal("password1", result.Principal!.Credential);
        Assert.Equal(AuthenticationFailure.WrongPassword, (await BasicAsync("mytoken", "wrong-password")).Failure);
    }

    [Fact]
    public async Task AdminUsername_IsCaseInsensitive()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        var credentials = await Identities.GetAdminCredentialsOrNullAsync(Reg, default);
        Assert.True((await BasicAsync("MyRegistry", credentials!.Password)).Succeeded);
    }

    [Fact]
    public async Task DisabledAdmin_IsRefused()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        var credentials = await Identities.GetAdminCredentialsOrNullAsync(Reg, default);
        await Identities.SetAdminUserEnabledAsync(Reg, false, default);
        Assert.Equal(AuthenticationFailure.Disabled, (await BasicAsync(Reg, credentials!.Password)).Failure);
    }

    [Fact]
    public async Task AdminWrongPassword_IsRefused()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        Assert.Equal(AuthenticationFailure.WrongPassword, (await BasicAsync(Reg, "nope")).Failure);
    }

    [Fact]
    public async Task RegeneratedAdminPassword_OldOneIsRefused()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        var before = await Identities.GetAdminCredentialsOrNullAsync(Reg, default);
        Assert.True((await BasicAsync(Reg, before!.Password)).Succeeded);
        await Identities.RegenerateAdminPasswordAsync(Reg, "password", default);
        Assert.Equal(AuthenticationFailure.WrongPassword, (await BasicAsync(Reg, before.Password)).Failure);
    }

    [Fact]
    public async Task UnknownUser_IsRefused()
    {
        Assert.Equal(AuthenticationFailure.UnknownUser, (await BasicAsync("nobody", "pw")).Failure);
    }

    [Fact]
    public async Task Token_AuthenticatesWithScopeMapPermissions()
    {
        var password = await CreateTokenAsync(SystemScopeMaps.PullMetadataRead);
        var result = await BasicAsync("mytoken", password);
        Assert.Equal(PrincipalKind.Token, result.Principal!.Kind);
        Assert.Equal("mytoken", result.Principal.Name);
        Assert.Equal(RepositoryActions.Pull | RepositoryActions.MetadataRead, result.Principal.Permissions.GetRepositoryActions("any"));
        Assert.False(result.Principal.Permissions.AllowsRegistry(ScopeNames.Catalog));
    }

    [Fact]
    public async Task TokenSecondPassword_Authenticates()
    {
        await CreateTokenAsync();
        var second = await Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", "password2", null, default);
        Assert.Equal("password2", (await BasicAsync("mytoken", second.Passwords[0].Value)).Principal!.Credential);
    }

    [Fact]
    public async Task TokenWrongPassword_IsRefused()
    {
        await CreateTokenAsync();
        Assert.Equal(AuthenticationFailure.WrongPassword, (await BasicAsync("mytoken", "wrong")).Failure);
    }

    [Fact]
    public async Task DisabledToken_IsRefused()
    {
        var password = await CreateTokenAsync();
        await Identities.UpdateTokenAsync(Reg, "mytoken", new TokenUpdate(Enabled: false), default);
        Assert.Equal(AuthenticationFailure.Disabled, (await BasicAsync("mytoken", password)).Failure);
    }

    [Fact]
    public async Task DisabledToken_WrongPassword_ReportsWrongPassword()
    {
        await CreateTokenAsync();
        await Identities.UpdateTokenAsync(Reg, "mytoken", new TokenUpdate(Enabled: false), default);
        Assert.Equal(AuthenticationFailure.WrongPassword, (await BasicAsync("mytoken", "wrong")).Failure);
    }

    [Fact]
    public async Task ExpiredTokenPassword_IsRefused()
    {
        var password = await CreateTokenAsync(expiry: _fixture.Time.GetUtcNow().AddHours(1));
        Assert.True((await BasicAsync("mytoken", password)).Succeeded);
        _fixture.Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(AuthenticationFailure.Expired, (await BasicAsync("mytoken", password)).Failure);
    }

    [Fact]
    public async Task DeletedTokenPassword_IsRefusedDespiteCache()
    {
        var password = await CreateTokenAsync();
        Assert.True((await BasicAsync("mytoken", password)).Succeeded);
        await Identities.UpdateTokenAsync(Reg, "mytoken", new TokenUpdate(KeepPasswords: ["password2"]), default);
        Assert.Equal(AuthenticationFailure.WrongPassword, (await BasicAsync("mytoken", password)).Failure);
    }

    [Fact]
    public async Task RecreatedToken_OldPasswordIsRefusedDespiteCache()
    {
        var password = await CreateTokenAsync();
        Assert.True((await BasicAsync("mytoken", password)).Succeeded);
        await Identities.DeleteTokenAsync(Reg, "mytoken", default);
        await CreateTokenAsync();
        Assert.Equal(AuthenticationFailure.WrongPassword, (await BasicAsync("mytoken", password)).Failure);
    }

    [Fact]
    public async Task SuccessfulVerification_IsCached()
    {
        var password = await CreateTokenAsync();
        Assert.Equal(0, _fixture.Cache.Count);
        await BasicAsync("mytoken", password);
        var token = await _fixture.Store.GetTokenOrNullAsync(Reg, "mytoken", default);
        Assert.Equal("password1", _fixture.Cache.GetCredentialOrNull(Reg, "token:mytoken", token!.Version, password));
    }

    [Fact]
    public async Task FailedVerification_IsNotCached()
    {
        await CreateTokenAsync();
        await BasicAsync("mytoken", "wrong");
        Assert.Equal(0, _fixture.Cache.Count);
    }

    [Fact]
    public async Task ScopeMapChange_AppliesToNextAuthentication()
    {
        await Identities.PutScopeMapAsync(Reg, RegistrySku.Standard, "mymap1", null, ["repositories/a/content/read"], default);
        var password = await CreateTokenAsync("mymap1");
        Assert.Equal(RepositoryActions.Pull, (await BasicAsync("mytoken", password)).Principal!.Permissions.GetRepositoryActions("a"));
        await Identities.UpdateScopeMapAsync(Reg, RegistrySku.Standard, "mymap1", null, ["repositories/a/content/write"], default);
        Assert.Equal(RepositoryActions.Push, (await BasicAsync("mytoken", password)).Principal!.Permissions.GetRepositoryActions("a"));
    }

    [Fact]
    public async Task TokenNamedLikeRegistry_AuthenticatesWhenAdminDisabled()
    {
        var password = await CreateTokenAsync(name: Reg);
        Assert.Equal(PrincipalKind.Token, (await BasicAsync(Reg, password)).Principal!.Kind);
    }

    [Fact]
    public void Anonymous_WhenDisabled_IsRefused()
    {
        Assert.Equal(AuthenticationFailure.AnonymousPullDisabled, AuthenticationService.AuthenticateAnonymous(Registry).Failure);
    }

    [Fact]
    public void Anonymous_WhenEnabled_GetsAnonymousPull()
    {
        var principal = AuthenticationService.AuthenticateAnonymous(Registry with { AnonymousPullEnabled = true }).Principal!;
        Assert.True(principal.IsAnonymous);
        Assert.Equal("acr_anon_pull", principal.Name);
    }

    [Fact]
    public async Task ComputeGrant_IntersectsTokenPermissions()
    {
        var password = await CreateTokenAsync(SystemScopeMaps.Push);
        var principal = (await BasicAsync("mytoken", password)).Principal!;
        var grant = AuthenticationService.ComputeGrant(principal, ScopeParser.Parse("repository:a:pull,push,delete registry:catalog:*"));
        Assert.Equal(["repository:a:pull,push"], grant.Select(g => g.ToString()));
    }

    // ---- refresh tokens and the null-GUID username ----

    private async Task<(RegistryPrincipal Principal, string Refresh)> TokenWithRefreshAsync(string scopeMap = SystemScopeMaps.Pull)
    {
        var password = await CreateTokenAsync(scopeMap);
        var principal = (await BasicAsync("mytoken", password)).Principal!;
        return (principal, _fixture.Tokens.IssueRefreshToken(Registry, principal).Value);
    }

    [Fact]
    public async Task NullGuidWithRefreshToken_AuthenticatesAsTheIdentity()
    {
        var (_, refresh) = await TokenWithRefreshAsync();
        var result = await BasicAsync(AuthenticationService.NullGuidUsername, refresh);
        Assert.Equal("mytoken", result.Principal!.Name);
        Assert.Equal(RepositoryActions.Pull, result.Principal.Permissions.GetRepositoryActions("any"));
    }

    [Fact]
    public async Task NullGuidWithAdminRefreshToken_AuthenticatesAsAdmin()
    {
        await Identities.SetAdminUserEnabledAsync(Reg, true, default);
        var credentials = await Identities.GetAdminCredentialsOrNullAsync(Reg, default);
        var principal = (await BasicAsync(Reg, credentials!.Password)).Principal!;
        var refresh = _fixture.Tokens.IssueRefreshToken(Registry, principal).Value;
        Assert.Equal(PrincipalKind.Admin, (await BasicAsync(AuthenticationService.NullGuidUsername, refresh)).Principal!.Kind);
    }

    [Fact]
    public async Task NullGuidWithAccessToken_IsCappedAndNeverYieldsARefreshToken()
    {
        var (principal, _) = await TokenWithRefreshAsync(SystemScopeMaps.Push);
        var access = _fixture.Tokens.IssueAccessToken(Registry, principal, [AccessScope.Repository("a", "pull")]).Value;
        var viaAccess = (await BasicAsync(AuthenticationService.NullGuidUsername, access)).Principal!;
        Assert.True(viaAccess.ViaAccessToken);
        Assert.Equal(RepositoryActions.Pull, viaAccess.Permissions.GetRepositoryActions("a"));
        Assert.Equal(RepositoryActions.None, viaAccess.Permissions.GetRepositoryActions("b"));
        Assert.Throws<InvalidOperationException>(() => _fixture.Tokens.IssueRefreshToken(Registry, viaAccess));
    }

    [Fact]
    public async Task NullGuidWithGarbage_IsInvalidToken()
    {
        Assert.Equal(AuthenticationFailure.InvalidToken, (await BasicAsync(AuthenticationService.NullGuidUsername, "not-a-jwt")).Failure);
    }

    [Fact]
    public async Task RefreshToken_ForDisabledToken_IsRefused()
    {
        var (_, refresh) = await TokenWithRefreshAsync();
        await Identities.UpdateTokenAsync(Reg, "mytoken", new TokenUpdate(Enabled: false), default);
        Assert.Equal(AuthenticationFailure.Disabled, (await Auth.AuthenticateRefreshTokenAsync(Registry, refresh, default)).Failure);
    }

    [Fact]
    public async Task RefreshToken_ForDeletedToken_IsRefused()
    {
        var (_, refresh) = await TokenWithRefreshAsync();
        await Identities.DeleteTokenAsync(Reg, "mytoken", default);
        Assert.Equal(AuthenticationFailure.InvalidToken, (await Auth.AuthenticateRefreshTokenAsync(Registry, refresh, default)).Failure);
    }

    [Fact]
    public async Task RefreshToken_AfterPasswordRegenerated_IsRefused()
    {
        var (_, refresh) = await TokenWithRefreshAsync();
        _fixture.Time.Advance(TimeSpan.FromSeconds(1));
        await Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", "password1", null, default);
        Assert.Equal(AuthenticationFailure.InvalidToken, (await Auth.AuthenticateRefreshTokenAsync(Registry, refresh, default)).Failure);
    }

    [Fact]
    public async Task RefreshToken_AfterOtherPasswordRegenerated_StillWorks()
    {
        var (_, refresh) = await TokenWithRefreshAsync();
        _fixture.Time.Advance(TimeSpan.FromSeconds(1));
        await Identities.GenerateTokenPasswordsAsync(Reg, "mytoken", "password2", null, default);
        Assert.True((await Auth.AuthenticateRefreshTokenAsync(Registry, refresh, default)).Succeeded);
    }

    [Fact]
    public async Task RefreshToken_AfterPasswordExpired_IsRefused()
    {
        var password = await CreateTokenAsync(expiry: _fixture.Time.GetUtcNow().AddMinutes(30));
        var principal = (await BasicAsync("mytoken", password)).Principal!;
        var refresh = _fixture.Tokens.IssueRefreshToken(Registry, principal).Value;
        _fixture.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(AuthenticationFailure.Expired, (await Auth.AuthenticateRefreshTokenAsync(Registry, refresh, default)).Failure);
    }

    [Fact]
    public async Task AccessToken_AsRefreshToken_IsRefused()
    {
        var (principal, _) = await TokenWithRefreshAsync();
        var access = _fixture.Tokens.IssueAccessToken(Registry, principal, []).Value;
        Assert.Equal(AuthenticationFailure.InvalidToken, (await Auth.AuthenticateRefreshTokenAsync(Registry, access, default)).Failure);
    }

    [Fact]
    public async Task RefreshToken_ForOtherRegistry_IsRefused()
    {
        var (_, refresh) = await TokenWithRefreshAsync();
        var other = new RegistryContext("otherregistry", "otherregistry.localhost:5000", false);
        Assert.Equal(AuthenticationFailure.InvalidToken, (await Auth.AuthenticateRefreshTokenAsync(other, refresh, default)).Failure);
    }

    // ---- bearer access tokens ----

    [Fact]
    public async Task Bearer_IsCappedByItsGrant()
    {
        var (principal, _) = await TokenWithRefreshAsync(SystemScopeMaps.PullMetadataRead);
        var grant = AuthenticationService.ComputeGrant(principal, ScopeParser.Parse("repository:a:pull"));
        var access = _fixture.Tokens.IssueAccessToken(Registry, principal, grant).Value;
        var permissions = (await Auth.AuthenticateBearerAsync(Registry, access, default)).Principal!.Permissions;
        Assert.Equal(RepositoryActions.Pull, permissions.GetRepositoryActions("a"));
        Assert.Equal(RepositoryActions.None, permissions.GetRepositoryActions("b"));
    }

    [Fact]
    public async Task Bearer_AfterScopeMapNarrowed_LosesRemovedActions()
    {
        await Identities.PutScopeMapAsync(Reg, RegistrySku.Standard, "mymap1", null, ["repositories/a/content/read", "repositories/a/content/write"], default);
        var (principal, _) = await TokenWithRefreshAsync("mymap1");
        var access = _fixture.Tokens.IssueAccessToken(Registry, principal, AuthenticationService.ComputeGrant(principal, ScopeParser.Parse("repository:a:pull,push"))).Value;
        await Identities.UpdateScopeMapAsync(Reg, RegistrySku.Standard, "mymap1", null, ["repositories/a/content/read"], default);
        Assert.Equal(RepositoryActions.Pull, (await Auth.AuthenticateBearerAsync(Registry, access, default)).Principal!.Permissions.GetRepositoryActions("a"));
    }

    [Fact]
    public async Task Bearer_ForDisabledToken_IsRefused()
    {
        var (principal, _) = await TokenWithRefreshAsync();
        var access = _fixture.Tokens.IssueAccessToken(Registry, principal, []).Value;
        await Identities.UpdateTokenAsync(Reg, "mytoken", new TokenUpdate(Enabled: false), default);
        Assert.Equal(AuthenticationFailure.Disabled, (await Auth.AuthenticateBearerAsync(Registry, access, default)).Failure);
    }

    [Fact]
    public async Task Bearer_RefreshToken_IsRefused()
    {
        var (_, refresh) = await TokenWithRefreshAsync();
        Assert.Equal(AuthenticationFailure.InvalidToken, (await Auth.AuthenticateBearerAsync(Registry, refresh, default)).Failure);
    }

    [Fact]
    public async Task AnonymousBearer_AfterAnonymousPullTurnedOff_IsRefused()
    {
        var open = Registry with { AnonymousPullEnabled = true };
        var anonymous = AuthenticationService.AuthenticateAnonymous(open).Principal!;
        var access = _fixture.Tokens.IssueAccessToken(open, anonymous, AuthenticationService.ComputeGrant(anonymous, ScopeParser.Parse("repository:a:pull"))).Value;
        Assert.True((await Auth.AuthenticateBearerAsync(open, access, default)).Succeeded);
        Assert.Equal(AuthenticationFailure.AnonymousPullDisabled, (await Auth.AuthenticateBearerAsync(Registry, access, default)).Failure);
    }

    [Fact]
    public async Task NullGuidWithAccessToken_IsCappedByItsGrant()
    {
        var (principal, _) = await TokenWithRefreshAsync(SystemScopeMaps.PullMetadataRead);
        var access = _fixture.Tokens.IssueAccessToken(Registry, principal, [AccessScope.Repository("a", "pull")]).Value;
        var result = await BasicAsync(AuthenticationService.NullGuidUsername, access);
        Assert.Equal(RepositoryActions.Pull, result.Principal!.Permissions.GetRepositoryActions("a"));
    }

    [Fact]
    public async Task AnonymousAccessToken_AsNullGuidPassword_IsRefused()
    {
        var open = Registry with { AnonymousPullEnabled = true };
        var access = _fixture.Tokens.IssueAccessToken(open, RegistryPrincipal.Anonymous(open), []).Value;
        Assert.Equal(AuthenticationFailure.InvalidToken, (await Auth.AuthenticateBasicAsync(open, AuthenticationService.NullGuidUsername, access, default)).Failure);
    }
}
