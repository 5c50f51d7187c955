using System.Runtime.InteropServices;

namespace Berth.Server.Hosting;

/// <summary>
/// <c>berth serve</c> runs with umask 077, so that anything it writes (the database and its -wal and -shm files,
/// blobs, uploads, keys, anything a library creates) is private to the server's user even where the code does not
/// set a mode itself. The places that create the data folder and its contents also set 0700/0600 explicitly; this
/// is the net under them. Only for <c>serve</c>: the mask is process-wide, and the CLI writes files meant for others.
/// </summary>
public static class FileCreationMask
{
    private const uint OwnerOnly = 0b000_111_111; // 077: no bits for group and others

    public static void RestrictToOwner()
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            _ = Umask(OwnerOnly);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // No libc to ask: the explicit modes still apply.
        }
    }

    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);
}
