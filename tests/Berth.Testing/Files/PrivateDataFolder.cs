namespace Berth.Testing;

/// <summary>Checks that a data folder is private to the server's user: no file and no folder open to group or others.</summary>
public static class PrivateDataFolder
{
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Every entry under <paramref name="root"/> (itself included) with a group or other permission bit, as "path mode".</summary>
    public static IReadOnlyList<string> FindExposed(string root)
    {
        var entries = new[] { root }.Concat(Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories));
        return [.. entries
            .Select(path => (path, mode: File.GetUnixFileMode(path)))
            .Where(e => (e.mode & GroupOrOther) != 0)
            .Select(e => $"{Path.GetRelativePath(root, e.path)} {Convert.ToString((int)e.mode, 8)}")];
    }

    /// <summary>The files under <paramref name="root"/>, relative to it, to show that a walk found what it had to check.</summary>
    public static IReadOnlyList<string> Files(string root) =>
        [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(path => Path.GetRelativePath(root, path).Replace('\\', '/'))];
}
