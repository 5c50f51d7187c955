using Berth.Core.Identity;

namespace Berth.Core.Tests.Identity;

public sealed class GrantTests
{
    private static Permissions Map(params string[] actions) =>
        new ScopeMap("test-map", ScopeMapType.UserDefined, null, actions, DateTimeOffset.UnixEpoch, 1).ToPermissions();

    private static string[] Grant(Permissions permissions, params string[] scopes) =>
        Grants.Compute(permissions, ScopeParser.Parse(scopes)).Select(s => s.ToString()).ToArray();

    [Fact]
    public void PartialPermission_GrantsIntersectionWithoutError()
    {
        var pullOnly = Map("repositories/foo/content/read");
        Assert.Equal(["repository:foo:pull"], Grant(pullOnly, "repository:foo:pull,push"));
    }

    [Fact]
    public void NoPermission_GrantsEmptyList()
    {
        Assert.Empty(Grant(Map("repositories/foo/content/read"), "repository:bar:pull"));
    }

    [Fact]
    public void EmptyRequest_GrantsEmptyList()
    {
        Assert.Empty(Grants.Compute(Permissions.Admin, []));
    }

    [Fact]
    public void Admin_GetsEveryRequestedAction()
    {
        Assert.Equal(["repository:foo:pull,push,delete,metadata_read,metadata_write"],
            Grant(Permissions.Admin, "repository:foo:pull,push,delete,metadata_read,metadata_write"));
    }

    [Fact]
    public void Admin_GetsCatalog()
    {
        Assert.Equal(["registry:catalog:*"], Grant(Permissions.Admin, "registry:catalog:*"));
    }

    [Fact]
    public void Admin_WildcardRequest_StaysWildcard()
    {
        Assert.Equal(["repository:foo:*"], Grant(Permissions.Admin, "repository:foo:*"));
    }

    [Fact]
    public void Token_NeverGetsCatalog()
    {
        Assert.Empty(Grant(SystemScopeMaps.GetOrNull(SystemScopeMaps.Admin)!.ToPermissions(), "registry:catalog:*"));
    }

    [Fact]
    public void TokenWildcardRequest_ExpandsToHeldActions()
    {
        Assert.Equal(["repository:foo:pull,metadata_read"], Grant(Map("repositories/foo/content/read", "repositories/foo/metadata/read"), "repository:foo:*"));
    }

    [Fact]
    public void ScopesOnSameRepository_AreMerged()
    {
        Assert.Equal(["repository:foo:pull,delete"], Grant(Permissions.Admin, "repository:foo:pull", "repository:foo:delete"));
    }

    [Fact]
    public void UnknownAction_IsDropped()
    {
        Assert.Equal(["repository:foo:pull"], Grant(Permissions.Admin, "repository:foo:pull,frobnicate"));
    }

    [Fact]
    public void RegistryResource_WithNonWildcardAction_IsNotGranted()
    {
        Assert.Empty(Grant(Permissions.Admin, "registry:catalog:pull"));
    }

    [Fact]
    public void Anonymous_GetsPullMetadataReadAndCatalogOnly()
    {
        Assert.Equal(["repository:foo:pull,metadata_read", "registry:catalog:*"],
            Grant(Permissions.AnonymousPull, "repository:foo:pull,push,delete,metadata_read,metadata_write", "registry:catalog:*"));
    }

    [Fact]
    public void DeletedActions_AreAdminOnly()
    {
        Assert.Equal(["repository:foo:deleted_read"], Grant(Permissions.Admin, "repository:foo:deleted_read"));
        Assert.Empty(Grant(SystemScopeMaps.GetOrNull(SystemScopeMaps.Admin)!.ToPermissions(), "repository:foo:deleted_read"));
    }

    [Fact]
    public void AdditiveRules_UnionEveryMatchingRule()
    {
        // The reference's own example (§3.2).
        var permissions = Map("repositories/sample/*/content/read", "repositories/sample/teama/*/content/write",
            "repositories/sample/teama/projectb/content/delete");
        Assert.Equal(RepositoryActions.Pull | RepositoryActions.Push | RepositoryActions.Delete, permissions.GetRepositoryActions("sample/teama/projectb"));
        Assert.Equal(RepositoryActions.Pull | RepositoryActions.Push, permissions.GetRepositoryActions("sample/teama/projectc"));
    }

    [Fact]
    public void PrefixRule_DoesNotMatchThePrefixItself()
    {
        Assert.Equal(RepositoryActions.None, Map("repositories/sample/*/content/read").GetRepositoryActions("sample"));
    }

    [Fact]
    public void PrefixRule_DoesNotMatchSiblingWithSamePrefixText()
    {
        Assert.Equal(RepositoryActions.None, Map("repositories/sample/*/content/read").GetRepositoryActions("samplex/foo"));
    }

    [Theory]
    [InlineData("sample/../secret/y")]
    [InlineData("sample/*")]
    [InlineData("sample//y")]
    [InlineData("sample/./y")]
    [InlineData("sample/Y")]
    public void PrefixRule_MatchesOnlyValidRepositoryNames(string name)
    {
        Assert.Equal(RepositoryActions.None, Map("repositories/sample/*/content/read").GetRepositoryActions(name));
        Assert.Empty(Grant(Map("repositories/sample/*/content/read"), $"repository:{name}:pull"));
    }

    [Fact]
    public void EveryRepositoryRule_NeverSignsAnInvalidName()
    {
        Assert.Empty(Grant(Permissions.Admin, "repository:a/../b:pull"));
        Assert.Empty(Grant(Permissions.Admin, "repository:localhost:5000/a:pull"));
    }

    [Fact]
    public void PrefixRule_MatchesAnyDepth()
    {
        Assert.Equal(RepositoryActions.Pull, Map("repositories/sample/*/content/read").GetRepositoryActions("sample/a/b/c"));
    }

    [Fact]
    public void LiteralStarName_IsGrantedOnlyUnderEveryRepositoryRule()
    {
        Assert.Empty(Grant(Map("repositories/sample/*/content/read"), "repository:*:pull"));
        Assert.Equal(["repository:*:pull"], Grant(Map("repositories/*/content/read"), "repository:*:pull"));
    }

    [Fact]
    public void Intersect_CapsByAccessList()
    {
        var capped = Permissions.Admin.Intersect(Permissions.FromAccessList([AccessScope.Repository("foo", "pull")]));
        Assert.Equal(RepositoryActions.Pull, capped.GetRepositoryActions("foo"));
        Assert.Equal(RepositoryActions.None, capped.GetRepositoryActions("bar"));
        Assert.False(capped.AllowsRegistry(ScopeNames.Catalog));
    }

    [Fact]
    public void AccessListStarName_CoversEveryRepository()
    {
        var permissions = Permissions.FromAccessList([AccessScope.Repository("*", "pull")]);
        Assert.True(permissions.Allows(AccessScope.Repository("any/repo", "pull")));
    }

    [Fact]
    public void AccessListPrefixLookingName_IsLiteral()
    {
        var permissions = Permissions.FromAccessList([AccessScope.Repository("sample/*", "pull")]);
        Assert.False(permissions.Allows(AccessScope.Repository("sample/foo", "pull")));
    }

    [Fact]
    public void Allows_RequiresEveryAction()
    {
        var pull = Map("repositories/foo/content/read");
        Assert.True(pull.Allows(AccessScope.Repository("foo", "pull")));
        Assert.False(pull.Allows(AccessScope.Repository("foo", "pull", "push")));
    }
}
