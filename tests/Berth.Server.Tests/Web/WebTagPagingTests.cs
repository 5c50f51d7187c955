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
/// A repository with 100,000 tags: the repository page pages (by keyset cursor, both ways) and searches them in the
/// database, newest push first.
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

    /// <summary>The URL of the page after (or before) the tag at <paramref name="index"/> of the newest-first order, built as the pager builds it.</summary>
    private string Cursor(string direction, int index)
    {
        var tag = server.NewestFirst[index];
        return $"/r/{Repository}?{direction}={tag.LastUpdateTime.ToUnixTimeMilliseconds()}.{tag.Name}";
    }

    private static async Task<Browser.Page> FollowAsync(Browser browser, Browser.Page page, string rel)
    {
        var link = page.One($"nav.pager a[rel={rel}]");
        Assert.NotNull(link);
        return await browser.GetAsync(link.GetAttribute("href")!);
    }

    [Fact]
    public async Task FirstPages_AreTheNewestPushes_AndFollowEachOtherThroughTheNextAndPreviousLinks()
    {
        using var browser = new Browser(server);
        using var first = await browser.GetAsync($"/r/{Repository}");
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(Expected(0, PageSize), Browser.Tags(first));
        Assert.Contains($"{TagCount + 1:N0}", first.One("h2 .count")!.TextContent);
        Assert.Null(first.One("nav.pager a[rel=prev]"));

        // Forward three pages through the next links, then back through the previous links to the first page.
        var pages = new List<Browser.Page> { first };
        for (var i = 1; i <= 3; i++)
        {
            pages.Add(await FollowAsync(browser, pages[^1], "next"));
            Assert.Equal(Expected(i * PageSize, PageSize), Browser.Tags(pages[^1]));
            Assert.Contains("after=", pages[^1].Response.RequestMessage!.RequestUri!.Query);
        }
        for (var i = 2; i >= 0; i--)
        {
            pages.Add(await FollowAsync(browser, pages[^1], "prev"));
            Assert.Equal(Expected(i * PageSize, PageSize), Browser.Tags(pages[^1]));
        }
        Assert.Null(pages[^1].One("nav.pager a[rel=prev]"));
        Assert.NotNull(pages[^1].One("nav.pager a[rel=next]"));
        pages.ForEach(page => page.Dispose());
    }

    [Fact]
    public async Task DeepPage_FromACursor_IsTheRowsAfterIt_AndLinksBothWays()
    {
        // The depth of page 1,000 of offset paging: 49,950 tags before it.
        const int depth = 999 * PageSize;
        using var browser = new Browser(server);
        using var deep = await browser.GetAsync(Cursor("after", depth - 1));
        Assert.Equal(HttpStatusCode.OK, deep.Status);
        Assert.Equal(Expected(depth, PageSize), Browser.Tags(deep));

        using var next = await FollowAsync(browser, deep, "next");
        Assert.Equal(Expected(depth + PageSize, PageSize), Browser.Tags(next));
        using var back = await FollowAsync(browser, next, "prev");
        Assert.Equal(Expected(depth, PageSize), Browser.Tags(back));
        using var before = await FollowAsync(browser, back, "prev");
        Assert.Equal(Expected(depth - PageSize, PageSize), Browser.Tags(before));

        // The page before a tag near the top is the first page, whole, without a previous link.
        using var top = await browser.GetAsync(Cursor("before", 10));
        Assert.Equal(Expected(0, PageSize), Browser.Tags(top));
        Assert.Null(top.One("nav.pager a[rel=prev]"));
    }

    [Fact]
    public async Task LastPage_HoldsTheOldestPushes_AndTheOneBeyondLeadsBackToIt()
    {
        var total = TagCount + 1;
        var lastStart = (total - 1) / PageSize * PageSize;
        using var browser = new Browser(server);
        using var last = await browser.GetAsync(Cursor("after", lastStart - 1));
        Assert.Equal(Expected(lastStart, PageSize), Browser.Tags(last));
        Assert.Equal(server.NewestFirst[^1].Name, Browser.Tags(last)[^1]);
        Assert.Null(last.One("nav.pager a[rel=next]"));
        using var beforeLast = await FollowAsync(browser, last, "prev");
        Assert.Equal(Expected(lastStart - PageSize, PageSize), Browser.Tags(beforeLast));

        using var beyond = await browser.GetAsync(Cursor("after", total - 1));
        Assert.Equal(HttpStatusCode.OK, beyond.Status);
        Assert.Empty(Browser.Tags(beyond));
        Assert.NotNull(beyond.One("p#no-tags"));
        Assert.Null(beyond.One("nav.pager a[rel=next]"));
        using var backFromBeyond = await FollowAsync(browser, beyond, "prev");
        Assert.Equal(Expected(total - PageSize, PageSize), Browser.Tags(backFromBeyond));
    }

    [Theory]
    [InlineData("after=abc")]
    [InlineData("after=1733600000000")]
    [InlineData("after=.tag")]
    [InlineData("after=-5.tag")]
    [InlineData("before=1733600000000.bad%2Ftag")]
    [InlineData("after=99999999999999999999.tag")]
    [InlineData("after=1.a&before=1.a")]
    [InlineData("after=1.a&after=2.b")]
    public async Task MalformedCursor_Answers400AsAPage(string cursor)
    {
        using var browser = new Browser(server);
        using var page = await browser.GetAsync($"/r/{Repository}?{cursor}");
        Assert.Equal(HttpStatusCode.BadRequest, page.Status);
        Assert.StartsWith("text/html", page.Response.Content.Headers.ContentType!.ToString());
        Assert.NotNull(page.One("main#content"));
        Assert.Null(page.One("table#tags"));
    }

    [Fact]
    public async Task Search_FindsEveryTagContainingTheText_IgnoringCase_InPushOrder()
    {
        using var browser = new Browser(server);
        bool Matches(string name) => name.Contains("t-0999", StringComparison.OrdinalIgnoreCase);

        using var first = await browser.GetAsync($"/r/{Repository}?q=T-0999");
        using var second = await FollowAsync(browser, first, "next");
        using var back = await FollowAsync(browser, second, "prev");

        Assert.Equal(Expected(0, PageSize, Matches), Browser.Tags(first));
        Assert.Equal(Expected(PageSize, PageSize, Matches), Browser.Tags(second));
        Assert.Equal(Browser.Tags(first), Browser.Tags(back));
        Assert.Contains("q=T-0999", second.Response.RequestMessage!.RequestUri!.Query);
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
