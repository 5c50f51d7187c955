using Berth.Core.Identity;
using Berth.Core.Registries;
using Berth.Core.Storage;

namespace Berth.Core.Tests.Identity;

public sealed class ScopeMapTests
{
    [Theory]
    [InlineData("repositories/foo/content/read", RepositoryActions.Pull)]
    [InlineData("repositories/foo/content/write", RepositoryActions.Push)]
    [InlineData("repositories/foo/content/delete", RepositoryActions.Delete)]
    [InlineData("repositories/foo/metadata/read", RepositoryActions.MetadataRead)]
    [InlineData("repositories/foo/metadata/write", RepositoryActions.MetadataWrite)]
    public void Action_MapsToTokenAction(string value, RepositoryActions expected)
    {
        Assert.Equal(expected, ScopeMapAction.Parse(value).Grants);
    }

    [Fact]
    public void ContentWrite_DoesNotImplyPull()
    {
        Assert.False(ScopeMapAction.Parse("repositories/foo/content/write").Grants.HasFlag(RepositoryActions.Pull));
    }

    [Fact]
    public void NestedRepository_ParsesWholeName()
    {
        var action = ScopeMapAction.Parse("repositories/samples/team/hello/content/read");
        Assert.Equal("samples/team/hello", action.Repository.Value);
        Assert.Equal("content/read", action.Permission);
    }

    [Fact]
    public void UpperCaseAction_IsLowerCased()
    {
        Assert.Equal("repositories/samples/hello/content/read", ScopeMapAction.Parse("Repositories/Samples/Hello/Content/Read").ToString());
    }

    [Theory]
    [InlineData("repositories/*/content/read")]
    [InlineData("repositories/sample/*/metadata/write")]
    public void WildcardForms_AreValid(string value)
    {
        Assert.True(ScopeMapAction.TryParse(value, out _, out _));
    }

    [Theory]
    [InlineData("repositories/sample/*/teama/content/read", "a wildcard may appear only once")]
    [InlineData("repositories/sample/teama*/content/read", "a wildcard may appear only once")]
    [InlineData("repositories/sample/teama/*/projectb/*/content/read", "a wildcard may appear only once")]
    [InlineData("repositories/foo/content/execute", "unknown permission \"content/execute\"")]
    [InlineData("repositories/foo/contentWrite", "expected \"repositories/<repository>/content/read|write|delete\"")]
    [InlineData("registries/foo/content/read", "expected \"repositories/<repository>/content/read|write|delete\"")]
    [InlineData("repositories/Foo Bar/content/read", "invalid repository \"foo bar\"")]
    [InlineData("gateway/cr1/config/read", "connected registry")]
    [InlineData("", "expected")]
    public void InvalidAction_IsRejectedWithReason(string value, string reason)
    {
        Assert.False(ScopeMapAction.TryParse(value, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void InvalidAction_ParseThrowsInvalidAction()
    {
        var e = Assert.Throws<IdentityException>(() => ScopeMapAction.Parse("repositories/foo/content/nope"));
        Assert.Equal(IdentityErrorCode.InvalidAction, e.Code);
    }

    [Fact]
    public void SystemMaps_AreTheFiveFromTheReference()
    {
        Assert.Equal(
            ["_repositories_admin", "_repositories_pull", "_repositories_pull_metadata_read", "_repositories_push", "_repositories_push_metadata_write"],
            SystemScopeMaps.All.Select(m => m.Name));
        Assert.All(SystemScopeMaps.All, m => Assert.Equal(ScopeMapType.SystemDefined, m.Type));
    }

    [Theory]
    [InlineData(SystemScopeMaps.Admin, RepositoryActions.Pull | RepositoryActions.Push | RepositoryActions.Delete | RepositoryActions.MetadataRead | RepositoryActions.MetadataWrite)]
    [InlineData(SystemScopeMaps.Pull, RepositoryActions.Pull)]
    [InlineData(SystemScopeMaps.PullMetadataRead, RepositoryActions.Pull | RepositoryActions.MetadataRead)]
    [InlineData(SystemScopeMaps.Push, RepositoryActions.Pull | RepositoryActions.Push)]
    [InlineData(SystemScopeMaps.PushMetadataWrite, RepositoryActions.Pull | RepositoryActions.Push | RepositoryActions.MetadataRead | RepositoryActions.MetadataWrite)]
    public void SystemMap_GrantsExactlyItsActionsOnEveryRepository(string name, RepositoryActions expected)
    {
        Assert.Equal(expected, SystemScopeMaps.GetOrNull(name)!.ToPermissions().GetRepositoryActions("any/repo"));
    }

    [Fact]
    public void PullSystemMap_CannotListTags()
    {
        Assert.False(SystemScopeMaps.GetOrNull(SystemScopeMaps.Pull)!.ToPermissions().Allows(AccessScope.Repository("foo", "metadata_read")));
    }

    [Fact]
    public void SystemMapLookup_IsCaseInsensitive()
    {
        Assert.Equal(SystemScopeMaps.Pull, SystemScopeMaps.GetOrNull("_REPOSITORIES_PULL")?.Name);
    }

    [Theory]
    [InlineData("MyToken", true)]
    [InlineData("my-token-1", true)]
    [InlineData("abcd", false)]
    [InlineData("my_token", false)]
    [InlineData("my.token", false)]
    public void TokenName_FollowsArmPattern(string name, bool valid)
    {
        Assert.Equal(valid, IdentityNames.IsValidTokenName(name));
    }

    [Fact]
    public void TokenName_Over50Characters_IsInvalid()
    {
        Assert.True(IdentityNames.IsValidTokenName(new string('a', 50)));
        Assert.False(IdentityNames.IsValidTokenName(new string('a', 51)));
    }

    [Theory]
    [InlineData("my_scope-map", true)]
    [InlineData("map", false)]
    [InlineData("my map", false)]
    [InlineData("_repositories_pull", false)]
    public void ScopeMapName_FollowsArmPatternAndAvoidsSystemNames(string name, bool valid)
    {
        Assert.Equal(valid, IdentityNames.IsValidScopeMapName(name));
    }

    [Theory]
    [InlineData(RegistrySku.Basic, 100)]
    [InlineData(RegistrySku.Standard, 500)]
    [InlineData(RegistrySku.Premium, 50_000)]
    public void TierLimits_FollowReference(RegistrySku sku, int tokens)
    {
        var limits = IdentityLimits.For(sku);
        Assert.Equal(tokens, limits.Tokens);
        Assert.Equal(tokens, limits.ScopeMaps);
        Assert.Equal(500, limits.ActionsPerScopeMap);
        Assert.Equal(500, limits.RepositoriesPerScopeMap);
    }
}
