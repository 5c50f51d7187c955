using Berth.Core.Files;

namespace Berth.Core.Identity.Credentials;

/// <summary>
/// Secret files under the key directory: the folder is 0700 and each file 0600, created atomically
/// (write a temporary file with the final mode, then rename) so that no reader ever sees a partial key
/// and concurrent first starts agree on one key.
/// </summary>
internal static class KeyFiles
{
    /// <summary>Reads the file, creating it with <paramref name="create"/>'s content first if it does not exist.</summary>
    public static string ReadOrCreate(string directory, string fileName, Func<string> create)
    {
        PrivateFiles.EnsureDirectory(directory);
        var path = Path.Combine(directory, fileName);
        if (!File.Exists(path))
        {
            // No overwrite: if another process won the race, its key is the one everybody uses.
            PrivateFiles.TryCreate(path, Encoding.UTF8.GetBytes(create()));
        }
        else if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~PrivateFiles.SecretMode) != 0)
        {
            // A key copied in with loose permissions is tightened rather than refused.
            File.SetUnixFileMode(path, PrivateFiles.SecretMode);
        }
        return File.ReadAllText(path, Encoding.UTF8);
    }
}
