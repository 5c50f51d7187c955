using System.Text;

namespace Berth.Core.Identity.Credentials;

/// <summary>
/// Secret files under the key directory: the folder is 0700 and each file 0600, created atomically
/// (write a temporary file with the final mode, then rename) so that no reader ever sees a partial key
/// and concurrent first starts agree on one key.
/// </summary>
internal static class KeyFiles
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode KeyFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Reads the file, creating it with <paramref name="create"/>'s content first if it does not exist.</summary>
    public static string ReadOrCreate(string directory, string fileName, Func<string> create)
    {
        EnsureDirectory(directory);
        var path = Path.Combine(directory, fileName);
        if (!File.Exists(path))
        {
            var temporary = Path.Combine(directory, $".{fileName}.{Guid.NewGuid():N}.tmp");
            var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = KeyFileMode;
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(Encoding.UTF8.GetBytes(create()));
                stream.Flush(flushToDisk: true);
            }
            try
            {
                // No overwrite: if another process won the race, its key is the one everybody uses.
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
            }
        }
        else if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & ~KeyFileMode) != 0)
        {
            // A key copied in with loose permissions is tightened rather than refused.
            File.SetUnixFileMode(path, KeyFileMode);
        }
        return File.ReadAllText(path, Encoding.UTF8);
    }

    private static void EnsureDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }
        Directory.CreateDirectory(directory, DirectoryMode);
        if ((File.GetUnixFileMode(directory) & ~DirectoryMode) != 0)
            File.SetUnixFileMode(directory, DirectoryMode);
    }
}
