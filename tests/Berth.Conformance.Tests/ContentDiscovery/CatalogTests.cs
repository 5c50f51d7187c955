using System.Net;
using System.Text.Json.Nodes;

namespace Berth.Conformance.Tests.ContentDiscovery;

/// <summary>
/// Docker Registry v2 catalog: <c>GET /v2/_catalog[?n=&amp;last=]</c>. Other tests of this class share the
/// server, so each test works inside its own name prefix and uses <c>last</c> to reach it.
/// </summary>
public abstract class CatalogTests<TRegistry>(TRegistry registry) : IClassFixture<TRegistry> where TRegistry : RegistryFixture
{
    private readonly HttpClient _client = registry.Client;

    /// <summary>Repositories <c>&lt;prefix&gt;/a</c>, <c>/b</c>, <c>/c</c>, <c>/d</c>, each with a manifest.</summary>
    private async Task<(string Prefix, string[] Repos)> ReposAsync()
    {
        var prefix = Repo.New("catalog");
        string[] repos = [$"{prefix}/a", $"{prefix}/b", $"{prefix}/c", $"{prefix}/d"];
        foreach (var repo in repos.Reverse())
            await _client.PushImageAsync(repo, "v1");
        return (prefix, repos);
    }

    private async Task<(HttpResponseMessage Response, string[] Repos)> ListAsync(string url)
    {
        var response = await _client.GetAsync(url);
        await response.ExpectAsync(HttpStatusCode.OK);
        var json = await response.ReadJsonAsync();
        var repos = json["repositories"] is JsonArray array ? array.Select(r => (string)r!).ToArray() : [];
        return (response, repos);
    }

    [Fact]
    public async Task Catalog_ListsRepositoriesSorted()
    {
        var (_, repos) = await ReposAsync();

        var (response, listed) = await ListAsync("/v2/_catalog");

        using (response)
        {
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(listed.Order(StringComparer.Ordinal), listed);
            Assert.Equal(repos, listed.Where(repos.Contains));
        }
    }

    [Fact]
    public async Task Catalog_WithNAndLast_ReturnsTheNextRepositoriesAndLink()
    {
        var (prefix, repos) = await ReposAsync();

        var (response, listed) = await ListAsync($"/v2/_catalog?n=2&last={Uri.EscapeDataString(repos[0])}");

        using (response)
        {
            Assert.Equal(repos[1..3], listed);
            var next = Pagination.Next(response);
            Assert.NotNull(next);
            Assert.StartsWith("/v2/_catalog?", next);
            var query = Pagination.Query(next!);
            Assert.Equal("2", query["n"]);
            Assert.Equal(repos[2], query["last"]);
        }
    }

    [Fact]
    public async Task Catalog_FollowingLinks_VisitsEveryRepositoryOnce()
    {
        var (_, repos) = await ReposAsync();
        var seen = new List<string>();
        string? url = "/v2/_catalog?n=1";
        var pages = 0;

        while (url is not null && pages++ < 1000)
        {
            var (response, listed) = await ListAsync(url);
            using (response)
            {
                Assert.True(listed.Length <= 1, $"n=1 returned {listed.Length} repositories");
                seen.AddRange(listed);
                url = Pagination.Next(response);
            }
        }

        Assert.Null(url);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
        Assert.All(repos, r => Assert.Contains(r, seen));
    }

    [Fact]
    public async Task Catalog_WithNZero_ReturnsEmptyListWithoutLink()
    {
        await ReposAsync();

        var (response, listed) = await ListAsync("/v2/_catalog?n=0");

        using (response)
        {
            Assert.Empty(listed);
            response.LacksHeader("Link");
        }
    }

    [Fact]
    public async Task Catalog_WithLastPastTheEnd_ReturnsEmptyListWithoutLink()
    {
        await ReposAsync();

        var (response, listed) = await ListAsync("/v2/_catalog?n=10&last=zzzz");

        using (response)
        {
            Assert.Empty(listed);
            response.LacksHeader("Link");
        }
    }

    [Fact]
    public async Task Catalog_WithNPastTheEnd_HasNoLink()
    {
        await ReposAsync();

        var (response, _) = await ListAsync("/v2/_catalog?n=100000");

        using (response) response.LacksHeader("Link");
    }
}

/// <summary>The tests above against the default set-up (SQLite metadata, filesystem blobs).</summary>
public sealed class CatalogTests(RegistryFixture registry) : CatalogTests<RegistryFixture>(registry);

/// <summary>The tests above in the scale-out configuration (metadata in PostgreSQL, blobs in Azure Blob Storage).</summary>
public sealed class CatalogOnScaleOutTests(ScaleOutRegistryFixture registry) : CatalogTests<ScaleOutRegistryFixture>(registry);
