using System.Net;
using System.Text.Json.Nodes;

namespace Berth.Conformance.Tests.ContentDiscovery;

/// <summary>Content discovery: end-8a/8b <c>GET /v2/&lt;name&gt;/tags/list[?n=&amp;last=]</c>.</summary>
public abstract class TagsListTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    // Chosen so that ASCII order and case-insensitive order agree (the spec allows either).
    private static readonly string[] Tags = ["v2", "alpha", "1.0", "latest", "v10", "beta", "0.9", "rc1"];
    private static readonly string[] Sorted = Tags.OrderBy(t => t, StringComparer.Ordinal).ToArray();

    private async Task<string> RepoWithTagsAsync(IEnumerable<string>? tags = null)
    {
        var repo = Repo.New("tags");
        var image = await _client.PushImageAsync(repo);
        foreach (var tag in tags ?? Tags)
            await _client.PushManifestAsync(repo, tag, image.Manifest);
        return repo;
    }

    private async Task<(HttpResponseMessage Response, string[] Tags)> ListAsync(string url)
    {
        var response = await _client.GetAsync(url);
        await response.ExpectAsync(HttpStatusCode.OK);
        var json = await response.ReadJsonAsync();
        var tags = json["tags"] switch
        {
            JsonArray array => array.Select(t => (string)t!).ToArray(),
            null => [],
            _ => throw new Xunit.Sdk.XunitException($"tags is not an array: {json}"),
        };
        return (response, tags);
    }

    [Fact]
    public async Task List_ReturnsNameAndAllTagsSorted()
    {
        var repo = await RepoWithTagsAsync();

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list");

        using (response)
        {
            var json = await response.ReadJsonAsync();
            Assert.Equal(repo, (string?)json["name"]);
            Assert.Equal(Sorted, tags);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            response.LacksHeader("Link");
        }
    }

    [Fact]
    public async Task List_WithN_ReturnsFirstNTagsAndNextLink()
    {
        var repo = await RepoWithTagsAsync();

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list?n=3");

        using (response)
        {
            Assert.Equal(Sorted[..3], tags);
            var next = Pagination.Next(response);
            Assert.NotNull(next);
            Assert.StartsWith($"/v2/{repo}/tags/list?", next);
            var query = Pagination.Query(next!);
            Assert.Equal("3", query["n"]);
            Assert.Equal(Sorted[2], query["last"]);
        }
    }

    [Fact]
    public async Task List_FollowingLinks_VisitsEveryTagOnceInOrder()
    {
        var repo = await RepoWithTagsAsync();
        var seen = new List<string>();
        string? url = $"/v2/{repo}/tags/list?n=3";
        var pages = 0;

        while (url is not null && pages++ < 10)
        {
            var (response, tags) = await ListAsync(url);
            using (response)
            {
                seen.AddRange(tags);
                url = Pagination.Next(response);
            }
        }

        Assert.Equal(Sorted, seen);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task List_WithNAndLast_ReturnsTagsAfterLast()
    {
        var repo = await RepoWithTagsAsync();

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list?n=2&last={Sorted[3]}");

        using (response) Assert.Equal(Sorted[4..6], tags);
    }

    [Fact]
    public async Task List_WithLastOnly_ReturnsAllTagsAfterLast()
    {
        var repo = await RepoWithTagsAsync();

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list?last={Sorted[5]}");

        using (response)
        {
            Assert.Equal(Sorted[6..], tags);
            response.LacksHeader("Link");
        }
    }

    [Fact]
    public async Task List_WithLastBetweenTags_StartsAtTheNextTag()
    {
        var repo = await RepoWithTagsAsync(["a", "c", "e"]);

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list?last=b");

        using (response) Assert.Equal(["c", "e"], tags);
    }

    [Fact]
    public async Task List_WithLastPastTheEnd_ReturnsEmptyList()
    {
        var repo = await RepoWithTagsAsync();

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list?n=5&last=zzz");

        using (response)
        {
            Assert.Empty(tags);
            response.LacksHeader("Link");
        }
    }

    [Fact]
    public async Task List_WithNZero_ReturnsEmptyListWithoutLink()
    {
        var repo = await RepoWithTagsAsync();

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list?n=0");

        using (response)
        {
            Assert.Empty(tags);
            response.LacksHeader("Link");
        }
    }

    [Fact]
    public async Task List_WithNPastTheEnd_ReturnsAllTagsWithoutLink()
    {
        var repo = await RepoWithTagsAsync();

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list?n=1000");

        using (response)
        {
            Assert.Equal(Sorted, tags);
            response.LacksHeader("Link");
        }
    }

    [Fact]
    public async Task List_WithNEqualToTheRest_HasNoLink()
    {
        var repo = await RepoWithTagsAsync();

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list?n=2&last={Sorted[^3]}");

        using (response)
        {
            Assert.Equal(Sorted[^2..], tags);
            response.LacksHeader("Link");
        }
    }

    [Fact]
    public async Task List_RepositoryWithoutTags_ReturnsEmptyList()
    {
        var repo = Repo.New("tags");
        await _client.PushImageAsync(repo);

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list");

        using (response) Assert.Empty(tags);
    }

    [Fact]
    public async Task List_UnknownRepository_Returns404NameUnknown()
    {
        using var response = await _client.GetAsync($"/v2/{Repo.New("absent")}/tags/list");

        await response.ErrorAsync(HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task List_AfterTagDeletion_OmitsTheTag()
    {
        var repo = await RepoWithTagsAsync(["keep", "drop"]);
        using var delete = await _client.DeleteAsync($"/v2/{repo}/manifests/drop");
        await delete.ExpectAsync(HttpStatusCode.Accepted);

        var (response, tags) = await ListAsync($"/v2/{repo}/tags/list");

        using (response) Assert.Equal(["keep"], tags);
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class TagsListTests(RegistryFixture registry) : TagsListTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class TagsListOnScaleOutTests(ScaleOutRegistryFixture registry) : TagsListTests<ScaleOutRegistryFixture>(registry);
