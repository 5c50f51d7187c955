using System.Globalization;
using Berth.Browser.Tests.Infrastructure;
using OpenQA.Selenium;
using Xunit.Abstractions;

namespace Berth.Browser.Tests;

/// <summary>
/// The registry, repository and manifest pages in light and dark mode, on a wide screen and on a phone: saved as
/// screenshots for a person to look at, and checked for what a screenshot cannot prove by itself (the dark scheme is
/// really applied, text contrast meets WCAG AA, nothing scrolls sideways on a phone).
/// </summary>
[Collection(WebPageCollection.Name)]
public sealed class AppearanceTests(SeededRegistry registry, ITestOutputHelper output)
{
    private sealed record Screen(string Name, int Width, int Height, bool Mobile);

    private static readonly Screen[] Screens = [new("wide", 1280, 900, false), new("phone", 390, 844, true)];
    private static readonly string[] Schemes = ["light", "dark"];

    [Fact]
    public void Pages_InLightAndDarkMode_OnWideScreenAndPhone_AreSavedAsScreenshots()
    {
        (string Name, string Path, By Landmark)[] pages =
        [
            ("registry", "/", By.CssSelector("table#repositories")),
            ("repository", "/r/" + SeededRegistry.WebApp, By.CssSelector("table#tags")),
            ("manifest", $"/r/{SeededRegistry.WebApp}/-/manifests/{registry.IndexDigest}", By.CssSelector("section#referrers")),
        ];
        using var browser = new HeadlessChromium(registry.Origin);
        var saved = new List<string>();
        foreach (var screen in Screens)
        {
            browser.Viewport(screen.Width, screen.Height, screen.Mobile);
            foreach (var (name, path, landmark) in pages)
            {
                var backgrounds = new Dictionary<string, string>();
                foreach (var scheme in Schemes)
                {
                    browser.ColorScheme(scheme);
                    browser.Go(path);
                    browser.WaitFor(landmark);
                    Assert.Equal(scheme == "dark", browser.Script("return matchMedia('(prefers-color-scheme: dark)').matches;"));
                    backgrounds[scheme] = (string)browser.Script("return getComputedStyle(document.body).backgroundColor;")!;
                    AssertTextContrast(browser, $"{name} ({scheme}, {screen.Name})");
                    if (screen.Mobile)
                    {
                        var overflow = Convert.ToInt64(browser.Script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;"));
                        var widest = browser.Script("""
                            const width = document.documentElement.clientWidth;
                            return [...document.querySelectorAll('body *')]
                              .filter(e => e.getBoundingClientRect().right > width + 1)
                              .slice(0, 8).map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`)
                              .join('\n');
                            """);
                        Assert.True(overflow <= 0, $"the {name} page scrolls sideways by {overflow} px at {screen.Width} px; too wide:\n{widest}");
                    }

                    var file = Artifacts.PathFor($"{name}-{scheme}-{screen.Name}.png");
                    browser.SaveFullPageScreenshot(file);
                    Assert.True(new FileInfo(file).Length > 1000, $"{file} is nearly empty");
                    Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(file)[..4]);
                    saved.Add(file);
                }
                Assert.NotEqual(backgrounds["light"], backgrounds["dark"]);
            }
        }

        foreach (var file in saved)
        {
            output.WriteLine($"screenshot: {file}");
        }
        MeasurementLog.Write("Browser screenshots (light/dark, wide 1280x900 and phone 390x844):\n" + string.Join('\n', saved.Select(f => "  " + f)));
        UpdateReadmeScreenshot();

        browser.AssertEveryRequestStayedOnTheOrigin();
        browser.AssertNoConsoleErrors();
    }

    /// <summary>
    /// BERTH_UPDATE_DOCS_SCREENSHOT=1 copies the wide light repository page to docs/images/repository-page.png, the
    /// picture the README shows, so it is refreshed from a real run rather than edited by hand.
    /// </summary>
    private void UpdateReadmeScreenshot()
    {
        if (Environment.GetEnvironmentVariable("BERTH_UPDATE_DOCS_SCREENSHOT") != "1") return;
        var root = Artifacts.RepositoryRoot() ?? throw new InvalidOperationException("BERTH_UPDATE_DOCS_SCREENSHOT=1 outside a checkout");
        var target = Path.Combine(root, "docs", "images", "repository-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        File.Copy(Artifacts.PathFor("repository-light-wide.png"), target, overwrite: true);
        output.WriteLine($"README screenshot: {target}");
    }

    /// <summary>
    /// WCAG AA: every visible piece of text (headings, cells, links, code) against the background it is drawn on has a
    /// contrast ratio of at least 4.5:1 (3:1 for large text).
    /// </summary>
    private static void AssertTextContrast(HeadlessChromium browser, string where)
    {
        var failures = (IReadOnlyCollection<object>)browser.Script("""
            function rgba(value) {
              const m = value.match(/rgba?\(([^)]+)\)/);
              if (!m) return null;
              const p = m[1].split(',').map(x => parseFloat(x));
              return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
            }
            function background(element) {
              for (let e = element; e; e = e.parentElement) {
                const c = rgba(getComputedStyle(e).backgroundColor);
                if (c && c.a > 0) return c;
              }
              return { r: 255, g: 255, b: 255, a: 1 };
            }
            function luminance(c) {
              const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
              return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
            }
            const failures = [];
            for (const e of document.querySelectorAll('#content *, header *')) {
              const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
              if (!own || !e.getClientRects().length) continue;
              const s = getComputedStyle(e);
              if (s.visibility === 'hidden') continue;
              const fg = rgba(s.color), bg = background(e);
              const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
              const ratio = (l1 + 0.05) / (l2 + 0.05);
              const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
              const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
              if (ratio < needed) failures.push(`${e.tagName.toLowerCase()}.${e.className} "${e.textContent.trim().slice(0, 30)}": ${ratio.toFixed(2)} < ${needed}`);
            }
            return failures;
            """)!;
        Assert.True(failures.Count == 0, $"{where}: text below WCAG AA contrast:\n" + string.Join('\n', failures.Select(f => Convert.ToString(f, CultureInfo.InvariantCulture))));
    }
}
