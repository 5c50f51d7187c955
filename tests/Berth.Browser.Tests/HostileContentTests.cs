using Berth.Browser.Tests.Infrastructure;
using OpenQA.Selenium;

namespace Berth.Browser.Tests;

/// <summary>Annotations are whatever the pusher wrote: markup and script in them must reach the visitor as text.</summary>
[Collection(WebPageCollection.Name)]
public sealed class HostileContentTests(SeededRegistry registry)
{
    [Fact]
    public void HostileAnnotations_ShowAsText_RunNoScript_AndLoadNothing()
    {
        using var browser = new HeadlessChromium(registry.Origin);
        browser.Go("/r/" + SeededRegistry.Hostile);
        Assert.Equal(SeededRegistry.HostileText, browser.Text(By.Id("description")));
        AssertNothingInjected(browser);

        browser.Click(By.CssSelector("table#tags tr[data-tag='1'] a.digest"));
        browser.WaitForPath($"/r/{SeededRegistry.Hostile}/-/manifests/{registry.HostileDigest}");
        Assert.Contains(SeededRegistry.HostileText, browser.Text(By.CssSelector("dl#annotations")));
        Assert.Contains(SeededRegistry.HostileText.Replace("\"", "\\\""), browser.Text(By.Id("raw-manifest")));
        AssertNothingInjected(browser);

        // The image in the annotation was never requested and no script ran (an alert would be open now); a blocked
        // attempt would have shown as a CSP violation in the console.
        Assert.DoesNotContain(browser.RequestedUrls, url => url.Contains("hostile-image", StringComparison.Ordinal));
        Assert.Throws<NoAlertPresentException>(() => browser.Driver.SwitchTo().Alert());
        browser.AssertEveryRequestStayedOnTheOrigin();
        browser.AssertNoConsoleErrors();
    }

    /// <summary>
    /// The other side of the console check: an inline script that reaches a page (as an unencoded annotation would) is
    /// refused by the page's Content-Security-Policy, never runs, and the refusal shows in the console.
    /// </summary>
    [Fact]
    public void InlineScriptOnThePage_IsRefusedByTheContentSecurityPolicy_AndTheConsoleCheckSeesIt()
    {
        using var browser = new HeadlessChromium(registry.Origin);
        browser.Go("/r/" + SeededRegistry.WebApp);
        browser.AssertNoConsoleErrors();

        browser.Script("""
            const script = document.createElement('script');
            script.textContent = 'document.body.dataset.injected = "ran";';
            document.body.appendChild(script);
            """);
        browser.WaitUntil("the CSP refusal in the console", () => browser.ConsoleMessages.Any(m => m.Message.Contains("Content Security Policy", StringComparison.Ordinal)));
        Assert.Null(browser.Script("return document.body.dataset.injected ?? null;"));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(browser.AssertNoConsoleErrors);
    }

    private static void AssertNothingInjected(HeadlessChromium browser)
    {
        Assert.Equal(0L, browser.Script("return document.querySelectorAll('#content script, #content img[src*=\"hostile-image\"], [onerror]').length;"));
    }
}
