namespace Berth.Core.Files;

/// <summary>
/// Files the server writes for its own user: keys, secrets and the files that name them. Each is written to a
/// temporary file created with its final mode and then renamed into place, so no reader ever sees a partial file,
/// and a file left behind with looser permissions is replaced rather than written into.
/// </summary>
public static class PrivateFiles
{
    /// <summary>0700: a folder of secrets.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>0600: readable and writable by the server's user only.</summary>
    public const UnixFileMode SecretMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>0644: not secret (a certificate), readable by everyone.</summary>
    public const UnixFileMode PublicMode = SecretMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>Creates <paramref name="directory"/> as 0700, and tightens it if it exists with looser permissions.</summary>
    public static void EnsureDirectory(string directory)
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

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> with <paramref name="mode"/>, replacing any file there.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content, UnixFileMode mode = SecretMode) =>
        File.Move(WriteTemporary(path, content, mode), path, overwrite: true);

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> unless a file is already there; false when one was
    /// (another process won the race, and its content is the one to use).
    /// </summary>
    public static bool TryCreate(string path, ReadOnlySpan<byte> content, UnixFileMode mode = SecretMode)
    {
        var temporary = WriteTemporary(path, content, mode);
        try
        {
            File.Move(temporary, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            return false;
        }
    }

    private static string WriteTemporary(string path, ReadOnlySpan<byte> content, UnixFileMode mode)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
        using (var file = new FileStream(temporary, options))
        {
            file.Write(content);
            file.Flush(flushToDisk: true);
        }
        // The create mode is masked by the process umask (077 under 'berth serve'); a public file gets its mode exactly.
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(temporary) != mode)
            File.SetUnixFileMode(temporary, mode);
        return temporary;
    }
}
