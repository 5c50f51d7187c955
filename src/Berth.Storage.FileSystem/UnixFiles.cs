using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Berth.Storage.FileSystem;

/// <summary>File calls .NET does not offer as such on Linux and other Unix systems.</summary>
internal static partial class UnixFiles
{
    private const int ReadOnly = 0; // O_RDONLY
    private const int CloseOnExec = 0x80000; // O_CLOEXEC
    private const int NoSuchFile = 2; // ENOENT

    /// <summary>Opens a file for reading without the advisory lock .NET takes for <see cref="FileShare"/>; null when it does not exist.</summary>
    public static SafeFileHandle? OpenForReadingWithoutLock(string path)
    {
        var fd = Open(path, ReadOnly | CloseOnExec);
        if (fd >= 0) return new SafeFileHandle(fd, ownsHandle: true);
        var errno = Marshal.GetLastPInvokeError();
        if (errno == NoSuchFile) return null;
        throw new IOException($"cannot open {path} (errno {errno})");
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
