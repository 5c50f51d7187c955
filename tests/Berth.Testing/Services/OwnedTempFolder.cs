using System.Diagnostics;

namespace Berth.Testing;

/// <summary>
/// Temp folders of the services the tests start (a database cluster, Azurite), each marked with the test process that
/// owns it, so that a later run can remove what a killed run left behind without touching a folder still in use.
/// </summary>
internal static class OwnedTempFolder
{
    private const string OwnerFile = "owner.pid";

    /// <summary>
    /// A new folder named <paramref name="prefix"/> and a random suffix, which appears under that name with its owner
    /// already written: test processes run side by side, and one cleaning up must never see a folder without an owner.
    /// </summary>
    public static string Create(string prefix)
    {
        var staging = Path.Combine(Path.GetTempPath(), "berth-staging-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        File.WriteAllText(Path.Combine(staging, OwnerFile), Environment.ProcessId.ToString());
        var folder = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.Move(staging, folder);
        return folder;
    }

    /// <summary>Folders named <paramref name="prefix"/>* whose owner is gone.</summary>
    public static IEnumerable<string> Leftovers(string prefix) =>
        Directory.GetDirectories(Path.GetTempPath(), prefix + "*").Where(folder => !HasLiveOwner(folder));

    private static bool HasLiveOwner(string folder)
    {
        try
        {
            if (!int.TryParse(File.ReadAllText(Path.Combine(folder, OwnerFile)), out var owner)) return false;
            using var process = Process.GetProcessById(owner);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
