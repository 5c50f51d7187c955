using Berth.Core.Identity;

namespace Berth.Core.Tests.Identity;

public sealed class ScopeParserTests
{
    [Fact]
    public void RepositoryScope_ParsesTypeNameAndActions()
    {
        var scope = Assert.Single(ScopeParser.Parse("repository:samples/hello:pull,push"));
        Assert.Equal("repository", scope.Type);
        Assert.Equal("samples/hello", scope.Name);
        Assert.Equal(["pull", "push"], scope.Actions);
    }

    [Theory]
    [InlineData("repository:app:pull\r\nX-Injected: 1")]
    [InlineData("repository:a\u0000pp:pull")]
    [InlineData("repository:app:pu\u007fll")]
    public void ScopeWithControlCharacters_IsDropped(string scope) =>
        Assert.Empty(ScopeParser.Parse(scope));

    [Fact]
    public void CatalogScope_Parses()
    {
        Assert.Equal(AccessScope.Catalog, Assert.Single(ScopeParser.Parse("registry:catalog:*")));
    }

    [Fact]
    public void SpaceJoinedScopes_AreSplit()
    {
        var scopes = ScopeParser.Parse("repository:a:pull registry:catalog:*  repository:b:delete");
        Assert.Equal(["repository:a:pull", "registry:catalog:*", "repository:b:delete"], scopes.Select(s => s.ToString()));
    }

    [Fact]
    public void RepeatedParameters_AreAllRead()
    {
        var scopes = ScopeParser.Parse("repository:a:pull", "repository:b:push");
        Assert.Equal(["repository:a:pull", "repository:b:push"], scopes.Select(s => s.ToString()));
    }

    [Fact]
    public void EmptyAndMissingScopes_YieldNothing()
    {
        Assert.Empty(ScopeParser.Parse("", null, "   "));
    }

    [Fact]
    public void TypeWithClass_DropsTheClass()
    {
        var scope = Assert.Single(ScopeParser.Parse("repository(plugin):vieux/sshfs:pull"));
        Assert.Equal("repository", scope.Type);
        Assert.Equal("vieux/sshfs", scope.Name);
    }

    [Fact]
    public void NameWithHostPort_KeepsColonsInName()
    {
        var scope = Assert.Single(ScopeParser.Parse("repository:localhost:5000/foo/bar:pull"));
        Assert.Equal("localhost:5000/foo/bar", scope.Name);
        Assert.Equal(["pull"], scope.Actions);
    }

    [Fact]
    public void UnknownResourceType_IsIgnored()
    {
        Assert.Equal(["repository:a:pull"], ScopeParser.Parse("artifact-repository:repo:pull repository:a:pull").Select(s => s.ToString()));
    }

    [Theory]
    [InlineData("repository")]
    [InlineData("repository:foo")]
    [InlineData("repository::pull")]
    [InlineData("repository:foo:")]
    [InlineData(":foo:pull")]
    [InlineData("repository(plugin:foo:pull")]
    public void MalformedScope_IsIgnored(string value)
    {
        Assert.Empty(ScopeParser.Parse(value));
    }

    [Fact]
    public void DuplicateActions_AreCollapsed()
    {
        Assert.Equal(["pull", "push"], Assert.Single(ScopeParser.Parse("repository:a:pull,push,pull")).Actions);
    }

    [Fact]
    public void TooManyScopes_AreCappedAtMax()
    {
        var many = string.Join(' ', Enumerable.Range(0, 500).Select(i => $"repository:r{i}:pull"));
        Assert.Equal(ScopeParser.MaxScopes, ScopeParser.Parse(many).Count);
    }

    [Fact]
    public void DeletedActions_AreKept()
    {
        Assert.Equal(["deleted_read", "deleted_restore"], Assert.Single(ScopeParser.Parse("repository:a:deleted_read,deleted_restore")).Actions);
    }
}
