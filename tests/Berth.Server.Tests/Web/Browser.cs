using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace Berth.Server.Tests.Web;

/// <summary>
/// What a browser does with the page, over HTTP: keeps cookies, asks for HTML, posts the sign-in form with the
/// antiforgery field the form carries. Pages are parsed with AngleSharp so tests assert on elements, not on strings.
/// </summary>
public sealed class Browser : IDisposable
{
    private static readonly HtmlParser Parser = new();
    private readonly HttpClient _client;

    public Browser(BerthTestServer server, string? host = null)
    {
        Cookies = new CookieContainer();
        _client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = Cookies })
        {
            BaseAddress = server.BaseAddress,
            Timeout = TimeSpan.FromSeconds(100),
        };
        _client.DefaultRequestHeaders.Accept.ParseAdd("text/html,application/xhtml+xml");
        if (host is not null) _client.DefaultRequestHeaders.Host = host;
    }

    public CookieContainer Cookies { get; }

    public sealed record Page(HttpResponseMessage Response, string Html, IDocument Document) : IDisposable
    {
        public HttpStatusCode Status => Response.StatusCode;

        public IElement? One(string selector) => Document.QuerySelector(selector);

        public IReadOnlyList<IElement> All(string selector) => Document.QuerySelectorAll(selector).ToList();

        public string? Header(string name) =>
            Response.Headers.TryGetValues(name, out var values) || Response.Content.Headers.TryGetValues(name, out values) ? string.Join(",", values) : null;

        public void Dispose() => Response.Dispose();
    }

    public async Task<Page> GetAsync(string path)
    {
        var response = await _client.GetAsync(path);
        return await ReadAsync(response);
    }

    public async Task<Page> PostFormAsync(string path, IEnumerable<KeyValuePair<string, string>> fields)
    {
        var response = await _client.PostAsync(path, new FormUrlEncodedContent(fields));
        return await ReadAsync(response);
    }

    /// <summary>Opens the sign-in form and submits it as a person would; returns the answer (303 on success).</summary>
    public async Task<Page> SignInAsync(string username, string password, string returnUrl = "/")
    {
        using var form = await GetAsync("/-/sign-in?returnUrl=" + Uri.EscapeDataString(returnUrl));
        Assert.Equal(HttpStatusCode.OK, form.Status);
        var fields = form.All("form#sign-in input[type=hidden]").Select(i => KeyValuePair.Create(i.GetAttribute("name")!, i.GetAttribute("value") ?? "")).ToList();
        fields.Add(KeyValuePair.Create("username", username));
        fields.Add(KeyValuePair.Create("password", password));
        return await PostFormAsync("/-/sign-in", fields);
    }

    /// <summary>Submits the header's sign-out form of the page at <paramref name="path"/>.</summary>
    public async Task<Page> SignOutAsync(string path = "/")
    {
        using var page = await GetAsync(path);
        var fields = page.All("form#sign-out input[type=hidden]").Select(i => KeyValuePair.Create(i.GetAttribute("name")!, i.GetAttribute("value") ?? "")).ToList();
        Assert.NotEmpty(fields);
        return await PostFormAsync("/-/sign-out", fields);
    }

    public static IReadOnlyList<string> Repositories(Page page) =>
        page.All("table#repositories tr[data-repository]").Select(row => row.GetAttribute("data-repository")!).ToList();

    public static IReadOnlyList<string> Tags(Page page) =>
        page.All("table#tags tr[data-tag]").Select(row => row.GetAttribute("data-tag")!).ToList();

    private static async Task<Page> ReadAsync(HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync();
        return new Page(response, html, await Parser.ParseDocumentAsync(html));
    }

    public void Dispose() => _client.Dispose();
}
