using Berth.Browser.Tests.Infrastructure;
using OpenQA.Selenium;

namespace Berth.Browser.Tests;

/// <summary>
/// An anonymous visitor browsing public content with real clicks and keys: registry, repository, tag digest, manifest,
/// referrer and back; the copy button; the keyboard. Every request stays on the server's origin.
/// </summary>
[Collection(WebPageCollection.Name)]
public sealed class NavigationTests(SeededRegistry registry)
{
    private static string ManifestPath(string digest) => $"/r/{SeededRegistry.WebApp}/-/manifests/{digest}";

    [Fact]
    public void Links_RegistryToRepositoryToTagToManifestToReferrer_AndTheBackButtonRetracesThem()
    {
        using var browser = new HeadlessChromium(registry.Origin);
        browser.Go("/");
        browser.Click(By.CssSelector($"tr[data-repository='{SeededRegistry.WebApp}'] a.repository"));

        browser.WaitForPath("/r/" + SeededRegistry.WebApp);
        Assert.Equal(SeededRegistry.Title, browser.Text(By.TagName("h1")));
        Assert.Equal(SeededRegistry.Description, browser.Text(By.Id("description")));
        Assert.Equal(["1.0", "0.9"], browser.All(By.CssSelector("table#tags tr[data-tag]")).Select(row => row.GetAttribute("data-tag")));
        var newest = browser.WaitFor(By.CssSelector("table#tags tr[data-tag='1.0']"));
        var platforms = newest.FindElement(By.CssSelector("td.platforms")).Text;
        Assert.Contains("linux/amd64", platforms);
        Assert.Contains("linux/arm64", platforms);
        var digestLink = newest.FindElement(By.CssSelector("a.digest"));
        Assert.Equal(registry.IndexDigest, digestLink.GetAttribute("title"));
        Assert.True(digestLink.Text.Length < registry.IndexDigest.Length && registry.IndexDigest.Contains(digestLink.Text.Trim()),
            $"the link text {digestLink.Text} is not a short form of {registry.IndexDigest}");

        digestLink.Click();
        browser.WaitForPath(ManifestPath(registry.IndexDigest));
        Assert.Contains(OciMediaTypes.ImageIndex, browser.Text(By.Id("media-type")));
        var platformLinks = browser.All(By.CssSelector("table#platforms a")).Select(a => Uri.UnescapeDataString(new Uri(a.GetAttribute("href")!).AbsolutePath)).ToList();
        Assert.Equal(registry.PlatformDigests.Select(ManifestPath), platformLinks.Distinct());
        Assert.Contains(SeededRegistry.Description, browser.Text(By.CssSelector("dl#annotations")));

        // Down to one platform's image: its config, without the values of its environment.
        browser.Click(By.CssSelector($"table#platforms a[href$='{registry.PlatformDigests[0]}']"));
        browser.WaitForPath(ManifestPath(registry.PlatformDigests[0]));
        var config = browser.Text(By.CssSelector("section#config"));
        Assert.Contains("/srv/webapp", config);
        Assert.Contains("WEBAPP_API_KEY", config);
        Assert.Contains("linux/amd64", config);
        Assert.DoesNotContain(SeededRegistry.SecretEnvironmentValue, browser.Driver.PageSource);
        Assert.Single(browser.All(By.CssSelector("table#layers tbody tr")));

        browser.Back();
        browser.WaitForPath(ManifestPath(registry.IndexDigest));
        var signatures = browser.WaitFor(By.CssSelector("section#referrers section[data-artifact-group='signatures']"));
        var sboms = browser.WaitFor(By.CssSelector("section#referrers section[data-artifact-group='sboms']"));
        Assert.EndsWith(registry.SbomDigest, Uri.UnescapeDataString(sboms.FindElement(By.CssSelector("a.referrer")).GetAttribute("href")!));
        signatures.FindElement(By.CssSelector("a.referrer")).Click();

        browser.WaitForPath(ManifestPath(registry.SignatureDigest));
        Assert.Contains(OciMediaTypes.ImageManifest, browser.Text(By.Id("media-type")));
        var raw = browser.Text(By.Id("raw-manifest"));
        Assert.Contains(SeededRegistry.CosignSignatureType, raw);
        Assert.Contains(registry.IndexDigest, raw);

        browser.Back();
        browser.WaitForPath(ManifestPath(registry.IndexDigest));
        browser.Back();
        browser.WaitForPath("/r/" + SeededRegistry.WebApp);
        Assert.Equal(SeededRegistry.Title, browser.Text(By.TagName("h1")));
        browser.Back();
        browser.WaitForPath("/");
        browser.WaitFor(By.CssSelector($"tr[data-repository='{SeededRegistry.WebApp}']"));

        browser.AssertEveryRequestStayedOnTheOrigin();
        browser.AssertNoConsoleErrors();
    }

    [Fact]
    public void CopyButton_PutsTheExactPullCommandOnTheClipboard()
    {
        using var browser = new HeadlessChromium(registry.Origin);
        browser.Go("/r/" + SeededRegistry.WebApp);
        browser.GrantClipboard();
        var expected = $"podman pull {registry.LoginServer}/{SeededRegistry.WebApp}:1.0";
        Assert.Equal(expected, browser.Text(By.Id("pull-podman")));

        var button = browser.WaitFor(By.CssSelector("button.copy[data-copy-target='pull-podman']"));
        button.Click();
        browser.WaitUntil("the copy button to say Copied", () => button.Text.Trim() == "Copied");
        Assert.Equal(expected, browser.ReadClipboard());

        browser.AssertEveryRequestStayedOnTheOrigin();
        browser.AssertNoConsoleErrors();
    }

    [Fact]
    public void Keyboard_TabReachesTheSearchBoxAndTheLinks_WithVisibleFocus_AndEnterFollowsThem()
    {
        using var browser = new HeadlessChromium(registry.Origin);
        browser.Go("/");

        var visited = new List<FocusedElement>();
        for (var i = 0; i < 40 && !(visited.Any(f => f.IsSearchBox) && visited.Any(f => f.IsRepositoryLink)); i++)
        {
            browser.PressKeys(Keys.Tab);
            visited.Add(FocusedElement.Read(browser));
        }
        Assert.True(visited.Any(f => f.IsSearchBox), "Tab never reached the search box: " + string.Join(", ", visited));
        Assert.True(visited.Any(f => f.IsRepositoryLink), "Tab never reached a repository link: " + string.Join(", ", visited));
        Assert.All(visited, focused => Assert.True(focused.HasVisibleFocus, $"{focused} shows no focus indicator"));

        // Search from the keyboard.
        browser.WaitFor(By.CssSelector("form[role=search] input[name=q]")).Click();
        browser.PressKeys("hostile", Keys.Enter);
        browser.WaitUntil("the search to run", () => browser.PathAndQuery == "/?q=hostile");
        browser.WaitFor(By.CssSelector("table#repositories"));
        Assert.Equal([SeededRegistry.Hostile], browser.All(By.CssSelector("table#repositories tr[data-repository]")).Select(row => row.GetAttribute("data-repository")));

        // Tab to the one result and follow it with Enter.
        FocusedElement focusedNow;
        var presses = 0;
        do
        {
            browser.PressKeys(Keys.Tab);
            focusedNow = FocusedElement.Read(browser);
        } while (!focusedNow.IsRepositoryLink && ++presses < 40);
        Assert.True(focusedNow.IsRepositoryLink, "Tab never reached the search result");
        browser.PressKeys(Keys.Enter);
        browser.WaitForPath("/r/" + SeededRegistry.Hostile);

        browser.AssertEveryRequestStayedOnTheOrigin();
        browser.AssertNoConsoleErrors();
    }

    /// <summary>What has keyboard focus, and whether a sighted person can see where it is.</summary>
    private sealed record FocusedElement(string Tag, string Name, string Classes, string Href, bool FocusVisible, string Outline, string BoxShadow)
    {
        public bool IsSearchBox => Tag == "input" && Name == "q";
        public bool IsRepositoryLink => Tag == "a" && Classes.Split(' ').Contains("repository");

        /// <summary>Chromium applies :focus-visible for keyboard focus; the page must draw an outline or a ring for it.</summary>
        public bool HasVisibleFocus =>
            FocusVisible && ((!Outline.StartsWith("none", StringComparison.Ordinal) && !Outline.Contains(" 0px")) || BoxShadow != "none");

        public static FocusedElement Read(HeadlessChromium browser)
        {
            var values = (IReadOnlyCollection<object>)browser.Script("""
                const e = document.activeElement;
                const s = getComputedStyle(e);
                return [e.tagName.toLowerCase(), e.getAttribute('name') || '', e.className || '', e.getAttribute('href') || '',
                        e.matches(':focus-visible'), s.outlineStyle + ' ' + s.outlineWidth, s.boxShadow];
                """)!;
            var v = values.ToArray();
            return new FocusedElement((string)v[0], (string)v[1], (string)v[2], (string)v[3], (bool)v[4], (string)v[5], (string)v[6]);
        }
    }
}
