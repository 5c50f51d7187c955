using System.Runtime.InteropServices;

namespace Berth.Server.Hosting;

/// <summary>
/// glibc's malloc gives every thread that allocates its own arena (up to 8 per core) and keeps freed memory in it.
/// SQLite and OpenSSL allocate natively from whichever pool thread runs the request, so with the 64-thread pool floor
/// a burst of pushes leaves dozens of arenas holding memory that the process never uses again. Two arenas are plenty
/// for that native traffic; under the 64-connection manifest load this keeps about 15–20 MiB out of the resident set
/// (measured with bench/run.sh). Must run before the pool's threads first allocate, hence at the very start.
/// </summary>
internal static class NativeHeap
{
    private const int MallocArenaMax = -8; // M_ARENA_MAX in glibc's malloc.h
    private const int Arenas = 2;

    public static void LimitArenas()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return;
        try
        {
            _ = MallOpt(MallocArenaMax, Arenas);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            // Not glibc (e.g. musl): its allocator has no per-thread arenas to limit.
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int MallOpt(int parameter, int value);
}
