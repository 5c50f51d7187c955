using System.Net;
using Berth.Core.Storage;
using Berth.Oci;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Server.Tests.Web;

/// <summary>A server holding a repository with 100,000 tags (and the expected newest-first order), seeded once per test class.</summary>
public interface ISeededTagsServer
{
    /// <summary>Every tag of <see cref="WebTagPagingTests{TServer}.Repository"/>, newest push first, ties by name.</summary>
    IReadOnlyList<TagDetails> NewestFirst { get; }
}

/// <summary>
/// A repository with 100,000 tags: the repository page pages and searches them in the database, newest push first.
/// The expected order is computed from the store's plain name-ordered listing, independent of the page's query.
/// Run on SQLite and on PostgreSQL; the tags are seeded through the metadata store in-process (<see cref="TagSeeding"/>).
/// </summary>
public abstract class WebTagPagingTests<TServer>(TServer server) where TServer : BerthTestServer, ISeededTagsServer
{
    public const int TagCount = 100_000;
    public const string Repository = "webpaging/many";
    private const int PageSize = 50;

    /// <summary>Seeds the repository on a started server (anonymous pull on) and returns its tags newest first.</summary>
    public static async Task<IReadOnlyList<TagDetails>> SeedAsync(BerthTestServer server)
    {
        await server.SetAnonymousPullAsync(true);
        var image = new TestImage();
        await server.Client.PushImageAsync(Repository, image, "seed");
        var key = new RepositoryKey(server.RegistryName, Repository);
        await TagSeeding.SeedAsync(server.Services, key, image, TagCount);

        var details = server.Services.GetRequiredService<IRepositoryDetailsStore>();
        var all = new List<TagDetails>(TagCount + 1);
        string? last = null;
        while (true)
        {
            var batch = await details.ListTagsAsync(key, 5000, last, ListOrder.Name, CancellationToken.None);
            all.AddRange(batch);
            if (batch.Count < 5000) break;
            last = batch[^1].Name;
        }
        return all.OrderByDescending(t => t.LastUpdateTime).ThenBy(t => t.Name, StringComparer.Ordinal).ToList();
    }

    private IReadOnlyList<string> Expected(int skip, int take, Func<string, bool>? filter = null) =>
        server.NewestFirst.Where(t => filter?.Invoke(t.Name) ?? true).Skip(skip).Take(take).Select(t => t.Name).ToList();

    [Fact]
    public async Task FirstPages_AreTheNewestPushes_AndFollowEachOtherThroughTheNextLink()
    {
        using var browser = new Browser(server);
        using var first = await browser.GetAsync($"/r/{Repository}");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(Expected(0, PageSize), Browser.Tags(first));
        Assert.Contains($"{TagCount + 1:N0}", first.One("h2 .count")!.TextContent);
        Assert.Null(first.One("nav.pager a[rel=prev]"));

        var next = first.One("nav.pager a[rel=next]")!.GetAttribute("href")!;
        using var second = await browser.GetAsync(next);
        Assert.Equal(Expected(PageSize, PageSize), Browser.Tags(second));
        Assert.NotNull(second.One("nav.pager a[rel=prev]"));
    }

    [Fact]
    public async Task LastPage_HoldsTheOldestPushes_AndHasNoNextLink()
    {
        var total = TagCount + 1;
        var lastPage = (total + PageSize - 1) / PageSize;
        using var browser = new Browser(server);
        using var last = await browser.GetAsync($"/r/{Repository}?page={lastPage}");
        using var beyond = await browser.GetAsync($"/r/{Repository}?page={lastPage + 1}");

        Assert.Equal(Expected((lastPage - 1) * PageSize, PageSize), Browser.Tags(last));
        Assert.Null(last.One("nav.pager a[rel=next]"));
        Assert.Empty(Browser.Tags(beyond));
        Assert.NotNull(beyond.One("p#no-tags"));
    }

    [Fact]
    public async Task Search_FindsEveryTagContainingTheText_IgnoringCase_InPushOrder()
    {
        using var browser = new Browser(server);
        bool Matches(string name) => name.Contains("t-0999", StringComparison.OrdinalIgnoreCase);

        using var first = await browser.GetAsync($"/r/{Repository}?q=T-0999");
        using var second = await browser.GetAsync(first.One("nav.pager a[rel=next]")!.GetAttribute("href")!);

        Assert.Equal(Expected(0, PageSize, Matches), Browser.Tags(first));
        Assert.Equal(Expected(PageSize, PageSize, Matches), Browser.Tags(second));
        Assert.Equal(100, Browser.Tags(first).Count + Browser.Tags(second).Count);
        Assert.Null(second.One("nav.pager a[rel=next]"));
        Assert.Equal("T-0999", first.One("form[role=search] input[name=q]")!.GetAttribute("value"));
    }

    [Fact]
    public async Task Search_TreatsLikeWildcardsAsText()
    {
        using var browser = new Browser(server);
        using var percent = await browser.GetAsync($"/r/{Repository}?q=%25");
        using var underscore = await browser.GetAsync($"/r/{Repository}?q=t_0");

        Assert.Empty(Browser.Tags(percent));
        Assert.Empty(Browser.Tags(underscore));
    }
}

public sealed class SqliteWebTagPagingTests(SqliteWebTagPagingTests.Server server)
    : WebTagPagingTests<SqliteWebTagPagingTests.Server>(server), IClassFixture<SqliteWebTagPagingTests.Server>
{
    public sealed class Server : UnthrottledBerthTestServer, ISeededTagsServer
    {
        public IReadOnlyList<TagDetails> NewestFirst { get; private set; } = [];

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            NewestFirst = await SeedAsync(this);
        }
    }
}

public sealed class PostgreSqlWebTagPagingTests(PostgreSqlWebTagPagingTests.Server server)
    : WebTagPagingTests<PostgreSqlWebTagPagingTests.Server>(server), IClassFixture<PostgreSqlWebTagPagingTests.Server>
{
    public sealed class Server() : PostgreSqlBerthTestServer(throttled: false), ISeededTagsServer
    {
        public IReadOnlyList<TagDetails> NewestFirst { get; private set; } = [];

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            NewestFirst = await SeedAsync(this);
        }
    }
}
