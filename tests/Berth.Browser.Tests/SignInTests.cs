using Berth.Browser.Tests.Infrastructure;
using OpenQA.Selenium;

namespace Berth.Browser.Tests;

/// <summary>Signing in with the admin user or a repository-scoped token, and out again, through the page's own forms.</summary>
[Collection(WebPageCollection.Name)]
public sealed class SignInTests(SeededRegistry registry)
{
    [Fact]
    public void Admin_SignsInFromTheRegistryPage_SeesPrivateRepositories_AndSignsOut()
    {
        using var browser = new HeadlessChromium(registry.Origin);
        browser.Go("/");
        var anonymous = RepositoryNames(browser);
        Assert.Contains(SeededRegistry.WebApp, anonymous);
        Assert.Contains(SeededRegistry.Hostile, anonymous);
        Assert.DoesNotContain(SeededRegistry.TeamApp, anonymous);
        Assert.DoesNotContain(SeededRegistry.TeamSecret, anonymous);
        Assert.False(browser.Exists(By.Id("signed-in-as")));

        browser.Click(By.CssSelector("a#sign-in"));
        browser.WaitForPath("/-/sign-in");
        browser.SubmitSignIn(registry.AdminUser, registry.AdminPassword);

        Assert.Equal(registry.AdminUser, browser.Text(By.Id("signed-in-as")));
        Assert.Equal("/", browser.AbsolutePath);
        var signedIn = RepositoryNames(browser);
        Assert.Equal(anonymous.Concat([SeededRegistry.TeamApp, SeededRegistry.TeamSecret]).Order(StringComparer.Ordinal), signedIn.Order(StringComparer.Ordinal));

        // The session cookie holds a Berth-issued token: script cannot read it, other sites cannot send it, and the
        // password is in no cookie.
        var cookies = browser.Driver.Manage().Cookies.AllCookies;
        Assert.NotEmpty(cookies);
        Assert.All(cookies, cookie =>
        {
            Assert.True(cookie.IsHttpOnly, $"cookie {cookie.Name} is readable by script");
            Assert.Equal("Strict", cookie.SameSite);
            Assert.DoesNotContain(registry.AdminPassword, cookie.Value);
        });
        Assert.Equal("", browser.Script("return document.cookie;"));

        browser.Click(By.CssSelector("form#sign-out [type=submit]"));
        browser.WaitFor(By.CssSelector("a#sign-in"));
        Assert.Equal("/", browser.AbsolutePath);
        Assert.False(browser.Exists(By.Id("signed-in-as")));
        Assert.Equal(anonymous.Order(StringComparer.Ordinal), RepositoryNames(browser).Order(StringComparer.Ordinal));

        browser.AssertEveryRequestStayedOnTheOrigin();
        browser.AssertNoConsoleErrors();
    }

    [Fact]
    public void ScopedToken_SeesItsOwnRepositoryAndThePublicOnes_NotOtherPrivateOnes()
    {
        using var browser = new HeadlessChromium(registry.Origin);
        browser.Go("/-/sign-in");
        browser.SubmitSignIn(SeededRegistry.TokenName, registry.TokenPassword);

        Assert.Equal(SeededRegistry.TokenName, browser.Text(By.Id("signed-in-as")));
        var visible = RepositoryNames(browser);
        Assert.Contains(SeededRegistry.TeamApp, visible);
        Assert.Contains(SeededRegistry.WebApp, visible);
        Assert.DoesNotContain(SeededRegistry.TeamSecret, visible);

        browser.Click(By.CssSelector($"tr[data-repository='{SeededRegistry.TeamApp}'] a.repository"));
        browser.WaitForPath("/r/" + SeededRegistry.TeamApp);
        Assert.Equal("Team app", browser.Text(By.TagName("h1")));

        // A repository the token may not pull looks exactly like one that does not exist.
        browser.Go("/r/" + SeededRegistry.TeamSecret);
        Assert.DoesNotContain("Team secret", browser.Driver.PageSource);
        Assert.False(browser.Exists(By.CssSelector("table#tags")));

        browser.Click(By.CssSelector("form#sign-out [type=submit]"));
        browser.WaitFor(By.CssSelector("a#sign-in"));
        Assert.DoesNotContain(SeededRegistry.TeamApp, RepositoryNames(browser));
        browser.AssertEveryRequestStayedOnTheOrigin();
    }

    [Fact]
    public void WrongPassword_ShowsAnError_NeverEchoesThePassword_AndSignsNobodyIn()
    {
        using var browser = new HeadlessChromium(registry.Origin);
        browser.Go("/-/sign-in?returnUrl=%2Fr%2Fpublic%2Fwebapp");
        var wrong = "wrong-" + Guid.NewGuid().ToString("N");
        browser.SubmitSignIn(registry.AdminUser, wrong);

        Assert.False(string.IsNullOrWhiteSpace(browser.Text(By.Id("sign-in-error"))));
        Assert.DoesNotContain(wrong, browser.Driver.PageSource);
        Assert.False(browser.Exists(By.Id("signed-in-as")));
        Assert.Equal("", browser.WaitFor(By.CssSelector("form#sign-in input[name=password]")).GetAttribute("value"));

        // The right password then lands on the page the visitor came from.
        browser.SubmitSignIn(registry.AdminUser, registry.AdminPassword);
        browser.WaitForPath("/r/" + SeededRegistry.WebApp);
        Assert.Equal(registry.AdminUser, browser.Text(By.Id("signed-in-as")));
    }

    private static List<string> RepositoryNames(HeadlessChromium browser)
    {
        browser.WaitFor(By.CssSelector("table#repositories"));
        return [.. browser.All(By.CssSelector("table#repositories tr[data-repository]")).Select(row => row.GetAttribute("data-repository")!)];
    }
}
