using System.Net;
using Berth.Server.Tests.Throttling;

namespace Berth.Server.Tests.Web;

/// <summary>Page reads spend the read budget as <c>/v2</c> reads do; behind a TLS-terminating proxy the session cookie is Secure.</summary>
public sealed class WebThrottlingTests(ThrottlingTestServer server) : IClassFixture<ThrottlingTestServer>
{
    [Fact]
    public async Task AnonymousPageReads_AreThrottledPerAddress_WithRetryAfterAndAnHtmlPage()
    {
        using var client = server.CreateClientFrom("127.0.0.31");
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        HttpResponseMessage? refused = null;
        var admitted = 0;
        // One anonymous address has a burst of 5 reads; a bounded run of quick requests exhausts it.
        for (var i = 0; i < 60 && refused is null; i++)
        {
            var response = await client.GetAsync("/");
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                admitted++;
                response.Dispose();
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            Assert.InRange(admitted, 1, 59);
            Assert.True(refused.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 });
            Assert.Equal("text/html", refused.Content.Headers.ContentType!.MediaType);
            Assert.Contains("Too many requests", await refused.Content.ReadAsStringAsync());
            Assert.Equal("DENY", string.Join(",", refused.Headers.GetValues("X-Frame-Options")));
        }
        // One budget for pages and /v2: right after the pages used it up, /v2 reads from the address are refused within
        // three requests (a budget of their own would admit five; one read may have come back meanwhile).
        using var v2 = await server.CreateAnonymousClientAsync("127.0.0.31");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var api = await v2.GetAsync("/v2/_catalog");
            statuses.Add(api.StatusCode);
        }
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task SessionCookie_IsSecure_WhenThePageWasReachedOverHttps()
    {
        using var client = server.CreateClientFrom(ThrottlingTestServer.TrustedProxyAddress);
        client.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "127.0.0.32");
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        using var form = await client.GetAsync("/-/sign-in");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var html = await form.Content.ReadAsStringAsync();
        var document = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(html);
        var fields = document.QuerySelectorAll("form#sign-in input[type=hidden]")
            .Select(i => KeyValuePair.Create(i.GetAttribute("name")!, i.GetAttribute("value") ?? "")).ToList();
        fields.Add(KeyValuePair.Create("username", server.AdminUsername));
        fields.Add(KeyValuePair.Create("password", server.AdminPassword));
        using var post = new HttpRequestMessage(HttpMethod.Post, "/-/sign-in") { Content = new FormUrlEncodedContent(fields) };
        post.Headers.Add("Cookie", string.Join("; ", form.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])));

        using var answer = await client.SendAsync(post);

        Assert.Equal(HttpStatusCode.SeeOther, answer.StatusCode);
        var session = answer.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("berth_session=", StringComparison.Ordinal));
        var attributes = session.Split(';').Select(a => a.Trim().ToLowerInvariant()).ToList();
        Assert.Contains("secure", attributes);
        Assert.Contains("httponly", attributes);
        Assert.Contains("samesite=strict", attributes);
    }
}
