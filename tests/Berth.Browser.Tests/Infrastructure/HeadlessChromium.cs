using System.Collections.ObjectModel;
using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Interactions;
using OpenQA.Selenium.Support.UI;

namespace Berth.Browser.Tests.Infrastructure;

/// <summary>
/// Debian's headless chromium driven by Debian's chromedriver (never Selenium Manager, which would download a
/// browser), with a fresh profile, aimed at one Berth server. It records every URL the page requests (the performance
/// log's <c>Network.requestWillBeSent</c>) and every console message over its whole life, so a test can assert that
/// nothing left the server's origin and that no error or CSP violation was reported. Waits are explicit and bounded.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string ChromeDriverPath = "/usr/bin/chromedriver";

    public static readonly TimeSpan WaitTimeout = TimeSpan.FromSeconds(20);

    private readonly ChromeDriverService _service;
    private readonly TempDirectory _profile = new("chromium-profile");
    private readonly List<string> _requestedUrls = [];
    private readonly List<LogEntry> _console = [];

    public HeadlessChromium(string origin)
    {
        foreach (var path in new[] { ChromiumPath, ChromeDriverPath })
        {
            if (!File.Exists(path))
                throw new InvalidOperationException($"{path} is missing; scripts/test.sh installs Debian's chromium and chromium-driver.");
        }
        Origin = origin.TrimEnd('/');

        _service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriverPath)!, Path.GetFileName(ChromeDriverPath));
        _service.HideCommandPromptWindow = true;
        _service.SuppressInitialDiagnosticInformation = true;

        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments(
            "--headless=new",
            "--window-size=1280,900",
            "--user-data-dir=" + _profile.Path,
            // Nothing of the browser's own talks to the network: the only traffic is the page's.
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-dev-shm-usage");
        // Chromium refuses to start its sandbox as root, which is how the test machines run.
        if (Environment.UserName == "root") options.AddArgument("--no-sandbox");
        options.SetLoggingPreference("performance", LogLevel.All);
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);

        try
        {
            Driver = new ChromeDriver(_service, options, TimeSpan.FromSeconds(60));
        }
        catch
        {
            // A browser that did not start must not leave its driver process or profile behind.
            _service.Dispose();
            _profile.Dispose();
            throw;
        }
        Driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        Driver.Manage().Timeouts().AsynchronousJavaScript = TimeSpan.FromSeconds(10);
    }

    public ChromeDriver Driver { get; }

    /// <summary><c>http://127.0.0.1:port</c>.</summary>
    public string Origin { get; }

    /// <summary>The current path and query, percent-decoded (digests keep their colon either way).</summary>
    public string PathAndQuery => Uri.UnescapeDataString(new Uri(Driver.Url).PathAndQuery);

    public string AbsolutePath => Uri.UnescapeDataString(new Uri(Driver.Url).AbsolutePath);

    public void Go(string pathAndQuery)
    {
        Driver.Navigate().GoToUrl(Origin + pathAndQuery);
        WaitFor(By.Id("content"));
    }

    public void Back() => Driver.Navigate().Back();

    public IWebElement WaitFor(By by) =>
        Wait($"an element {by}", () => Driver.FindElements(by).FirstOrDefault(e => e.Displayed));

    public T Wait<T>(string what, Func<T?> condition) where T : class
    {
        var wait = new WebDriverWait(Driver, WaitTimeout) { Message = $"waited {WaitTimeout.TotalSeconds} s for {what}" };
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException));
        return wait.Until(_ => condition());
    }

    public void WaitUntil(string what, Func<bool> condition) => Wait(what, () => condition() ? "yes" : null);

    /// <summary>Waits until the browser shows <paramref name="path"/> (path only, any query) with its page loaded.</summary>
    public void WaitForPath(string path)
    {
        WaitUntil($"the path {path} (now {Driver.Url})", () => AbsolutePath == path);
        WaitFor(By.Id("content"));
    }

    public void WaitForPathAndQuery(string pathAndQuery)
    {
        WaitUntil($"{pathAndQuery} (now {Driver.Url})", () => PathAndQuery == pathAndQuery);
        WaitFor(By.Id("content"));
    }

    public void Click(By by) => WaitFor(by).Click();

    public ReadOnlyCollection<IWebElement> All(By by) => Driver.FindElements(by);

    public bool Exists(By by) => Driver.FindElements(by).Count > 0;

    public string Text(By by) => WaitFor(by).Text;

    public void PressKeys(params string[] keys)
    {
        var actions = new Actions(Driver);
        foreach (var key in keys) actions.SendKeys(key);
        actions.Perform();
    }

    public object? Script(string script, params object[] arguments) => Driver.ExecuteScript(script, arguments);

    public object? Cdp(string command, Dictionary<string, object?>? parameters = null) =>
        Driver.ExecuteCdpCommand(command, parameters ?? []);

    /// <summary>Fills the sign-in form (already shown) and submits it.</summary>
    public void SubmitSignIn(string username, string password)
    {
        var form = WaitFor(By.CssSelector("form#sign-in"));
        foreach (var (field, value) in new[] { ("username", username), ("password", password) })
        {
            var input = form.FindElement(By.CssSelector($"input[name={field}]"));
            input.Clear();
            input.SendKeys(value);
        }
        form.FindElement(By.CssSelector("button[type=submit]")).Click();
    }

    /// <summary>Lets the page's origin read and write the clipboard, as a person does by accepting the prompt.</summary>
    public void GrantClipboard() =>
        Cdp("Browser.grantPermissions", new()
        {
            ["origin"] = Origin,
            ["permissions"] = new[] { "clipboardReadWrite", "clipboardSanitizedWrite" },
        });

    /// <summary>What the page would read with <c>navigator.clipboard.readText()</c>.</summary>
    public string ReadClipboard() =>
        (string)Driver.ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            navigator.clipboard.readText().then(done, error => done('clipboard error: ' + error));
            """)!;

    /// <summary>Emulates <c>prefers-color-scheme</c> ("light" or "dark") for every page from now on.</summary>
    public void ColorScheme(string scheme) =>
        Cdp("Emulation.setEmulatedMedia", new()
        {
            ["features"] = new[] { new Dictionary<string, object> { ["name"] = "prefers-color-scheme", ["value"] = scheme } },
        });

    /// <summary>A device viewport (e.g. a phone's 390x844, touch-sized and mobile) for every page from now on.</summary>
    public void Viewport(int width, int height, bool mobile) =>
        Cdp("Emulation.setDeviceMetricsOverride", new()
        {
            ["width"] = width,
            ["height"] = height,
            ["deviceScaleFactor"] = 1,
            ["mobile"] = mobile,
        });

    /// <summary>A PNG of the whole page, not only the visible part, saved to <paramref name="path"/>.</summary>
    public void SaveFullPageScreenshot(string path)
    {
        var metrics = (Dictionary<string, object>)Cdp("Page.getLayoutMetrics")!;
        var content = (Dictionary<string, object>)metrics["cssContentSize"];
        var shot = (Dictionary<string, object>)Cdp("Page.captureScreenshot", new()
        {
            ["format"] = "png",
            ["captureBeyondViewport"] = true,
            ["clip"] = new Dictionary<string, object>
            {
                ["x"] = 0,
                ["y"] = 0,
                ["width"] = Convert.ToDouble(content["width"]),
                ["height"] = Convert.ToDouble(content["height"]),
                ["scale"] = 1,
            },
        })!;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, Convert.FromBase64String((string)shot["data"]));
    }

    /// <summary>Every URL the pages requested so far, in order.</summary>
    public IReadOnlyList<string> RequestedUrls
    {
        get
        {
            DrainLogs();
            return [.. _requestedUrls];
        }
    }

    /// <summary>Every console message so far (errors, CSP violations, warnings).</summary>
    public IReadOnlyList<LogEntry> ConsoleMessages
    {
        get
        {
            DrainLogs();
            return [.. _console];
        }
    }

    /// <summary>
    /// Every request went to the server's own origin: no CDN, font or script host. <c>data:</c> URLs (inline images)
    /// make no request at all and are the only other scheme allowed.
    /// </summary>
    public void AssertEveryRequestStayedOnTheOrigin()
    {
        var urls = RequestedUrls;
        Assert.NotEmpty(urls);
        var elsewhere = urls.Where(url => !url.StartsWith(Origin + "/", StringComparison.Ordinal) && !url.StartsWith("data:", StringComparison.Ordinal)).ToList();
        Assert.True(elsewhere.Count == 0, $"requests left {Origin}:\n{string.Join('\n', elsewhere)}");
    }

    /// <summary>No console error: a CSP violation, a failed asset, a script error all land here.</summary>
    public void AssertNoConsoleErrors()
    {
        var errors = ConsoleMessages.Where(m => m.Level >= LogLevel.Warning).ToList();
        Assert.True(errors.Count == 0, "the console reported:\n" + string.Join('\n', errors.Select(e => $"{e.Level}: {e.Message}")));
    }

    private void DrainLogs()
    {
        foreach (var entry in Driver.Manage().Logs.GetLog("performance"))
        {
            using var json = JsonDocument.Parse(entry.Message);
            var message = json.RootElement.GetProperty("message");
            if (message.GetProperty("method").GetString() != "Network.requestWillBeSent") continue;
            var request = message.GetProperty("params");
            var url = request.GetProperty("request").GetProperty("url").GetString()!;
            // The browser's own pages (its start tab) load chrome:// resources from inside the browser: no network.
            var document = request.TryGetProperty("documentURL", out var documentUrl) ? documentUrl.GetString() ?? "" : "";
            if (url.StartsWith("chrome://", StringComparison.Ordinal) || document.StartsWith("chrome://", StringComparison.Ordinal)) continue;
            _requestedUrls.Add(url);
        }
        _console.AddRange(Driver.Manage().Logs.GetLog(LogType.Browser));
    }

    public void Dispose()
    {
        try
        {
            Driver.Quit();
        }
        finally
        {
            Driver.Dispose();
            _service.Dispose();
            _profile.Dispose();
        }
    }
}
