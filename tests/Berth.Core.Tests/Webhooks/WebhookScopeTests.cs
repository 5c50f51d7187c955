using Berth.Core.Storage;
using Berth.Core.Webhooks;
using Berth.Oci;

namespace Berth.Core.Tests.Webhooks;

public sealed class WebhookScopeTests
{
    private static ContentEvent Event(string repository, string? tag, params string[] manifestTags) =>
        new(WebhookActions.Push, new RepositoryKey("reg", repository), tag, Digest.Parse("sha256:" + new string('a', 64)), "application/json", 1, manifestTags, null);

    [Theory]
    [InlineData("", "any/repo", "v1", true)]
    [InlineData("foo:*", "foo", "v1", true)]
    [InlineData("foo:*", "foobar", "v1", false)]
    [InlineData("foo:bar", "foo", "bar", true)]
    [InlineData("foo:bar", "foo", "baz", false)]
    [InlineData("foo", "foo", "latest", true)]
    [InlineData("foo", "foo", "v1", false)]
    [InlineData("samples/*:v*", "samples/hello", "v2", true)]
    [InlineData("samples/*:v*", "samples/hello", "latest", false)]
    [InlineData("samples/*:v*", "other/hello", "v2", false)]
    [InlineData("*:*", "a/b/c", "x", true)]
    public void Matches_AcrScopeSemantics(string scope, string repository, string tag, bool expected) =>
        Assert.Equal(expected, WebhookScope.Matches(scope, Event(repository, tag)));

    [Fact]
    public void ManifestDelete_MatchesByTheTagsItCarried()
    {
        Assert.True(WebhookScope.Matches("foo:v1", Event("foo", null, "v1", "v2")));
        Assert.False(WebhookScope.Matches("foo:v3", Event("foo", null, "v1", "v2")));
        Assert.True(WebhookScope.Matches("foo:*", Event("foo", null)));
        Assert.False(WebhookScope.Matches("foo", Event("foo", null)));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("foo", true)]
    [InlineData("foo:*", true)]
    [InlineData("a:b:c", false)]
    [InlineData(":tag", false)]
    [InlineData("foo:", false)]
    [InlineData("foo bar:x", false)]
    public void IsValid(string scope, bool expected) => Assert.Equal(expected, WebhookScope.IsValid(scope));

    [Theory]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("[::1]:8080", true)]
    [InlineData("receiver.example:443", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.0.0.1:0", false)]
    [InlineData(":80", false)]
    public void AllowedDestinations_AreHostPort(string entry, bool valid) =>
        Assert.Equal(valid, WebhookOptions.TryParseDestination(entry, out _, out _));
}
