using System.Diagnostics;
using System.Reflection;

namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The single-file <c>berth</c> executable that scripts/publish.sh produces, published once into
/// <c>artifacts/publish/linux-x64</c> and reused while it is newer than the build the other tests run (a publish takes
/// about a minute; the build is what says whether the sources changed since).
/// </summary>
public static class PublishedBinary
{
    private static readonly SemaphoreSlim Publishing = new(1, 1);

    public static string RepositoryRoot =>
        typeof(PublishedBinary).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "RepositoryRoot").Value!;

    public static string OutputDirectory => Path.Combine(RepositoryRoot, "artifacts", "publish", "linux-x64");

    public static string ExecutablePath => Path.Combine(OutputDirectory, "berth");

    /// <summary>The executable, published now when it is missing or older than the newest assembly of the build.</summary>
    public static async Task<string> EnsureAsync()
    {
        await Publishing.WaitAsync();
        try
        {
            var build = Path.GetDirectoryName(BerthProcess.ServerDllPath)!;
            var newestBuild = Directory.EnumerateFiles(build, "*.dll").Max(File.GetLastWriteTimeUtc);
            if (File.Exists(ExecutablePath) && File.GetLastWriteTimeUtc(ExecutablePath) > newestBuild)
                return ExecutablePath;
            var clock = Stopwatch.StartNew();
            var publish = await ExternalTool.RunAsync("bash", [Path.Combine(RepositoryRoot, "scripts", "publish.sh"), "--output", OutputDirectory],
                timeout: TimeSpan.FromMinutes(15), workingDirectory: RepositoryRoot);
            Assert.True(publish.ExitCode == 0, publish.Describe());
            Assert.Equal(ExecutablePath, publish.StandardOutput.Trim().Split('\n')[^1]);
            Console.WriteLine($"published {ExecutablePath} in {clock.Elapsed.TotalSeconds:F0} s");
            return ExecutablePath;
        }
        finally
        {
            Publishing.Release();
        }
    }
}

/// <summary>A Berth server run from the published single-file executable, with a private data folder.</summary>
public sealed class PublishedBinaryServer : BerthServer
{
    protected override async Task<string?> ExecutableAsync() => await PublishedBinary.EnsureAsync();
}
