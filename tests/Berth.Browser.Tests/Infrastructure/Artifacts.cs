namespace Berth.Browser.Tests.Infrastructure;

/// <summary>
/// Where the browser tests leave what a person should look at (screenshots): <c>BERTH_BROWSER_ARTIFACTS</c>, else
/// <c>artifacts/</c> beside the test assembly. Every saved path is also written to the measurement log, which
/// scripts/test.sh prints after the run even when every test passes.
/// </summary>
public static class Artifacts
{
    public static string Folder
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable("BERTH_BROWSER_ARTIFACTS");
            return string.IsNullOrEmpty(configured) ? Path.Combine(AppContext.BaseDirectory, "artifacts") : Path.GetFullPath(configured);
        }
    }

    public static string PathFor(string fileName) => Path.Combine(Folder, fileName);

    /// <summary>
    /// The repository root (the folder holding Berth.slnx) above the test assembly, for the one screenshot the README
    /// shows; null when the tests run outside a checkout.
    /// </summary>
    public static string? RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Berth.slnx"))) return folder.FullName;
        }
        return null;
    }
}
