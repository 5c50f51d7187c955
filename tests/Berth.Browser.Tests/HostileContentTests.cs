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

    private static void AssertNothingInjected(HeadlessChromium browser)
    {
        Assert.Equal(0L, browser.Script("return document.querySelectorAll('#content script, #content img[src*=\"hostile-image\"], [onerror]').length;"));
    }
}
