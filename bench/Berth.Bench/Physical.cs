using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Berth.Bench;

/// <summary>The machine's own limits, measured in the same run: hashing, fsync'd disk writes, page-cache reads, loopback TCP.</summary>
internal static class Physical
{
    /// <summary>Single-core SHA-256 over 1 MiB buffers (openssl speed), MB/s.</summary>
    public static double Sha256MBps(int seconds)
    {
        var (exit, stdout, stderr) = Shell.Run("openssl", "speed", "-bytes", "1048576", "-seconds", seconds.ToString(CultureInfo.InvariantCulture), "sha256");
        var match = Regex.Match(stdout, @"^sha256\s+([\d.]+)k", RegexOptions.Multiline);
        if (exit != 0 || !match.Success) throw new BenchException($"openssl speed failed: {stderr}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * 1000 / 1e6;
    }

    /// <summary>Sequential write with O_DIRECT and a closing fsync (dd), MB/s.</summary>
    public static double DiskWriteMBps(string file, int mib)
    {
        var (exit, _, stderr) = Shell.Run("dd", "if=/dev/zero", $"of={file}", "bs=1M", $"count={mib}", "oflag=direct", "conv=fsync");
        if (exit != 0) throw new BenchException($"dd write failed: {stderr}");
        return DdRate(stderr);
    }

    /// <summary>Sequential read of a file already in the page cache (read once first), MB/s.</summary>
    public static double PageCacheReadMBps(string file)
    {
        Shell.Run("dd", $"if={file}", "of=/dev/null", "bs=1M");
        var (exit, _, stderr) = Shell.Run("dd", $"if={file}", "of=/dev/null", "bs=1M");
        if (exit != 0) throw new BenchException($"dd read failed: {stderr}");
        return DdRate(stderr);
    }

    private static double DdRate(string stderr)
    {
        var match = Regex.Match(stderr, @"(\d+) bytes .*copied, ([\d.e+-]+) s");
        if (!match.Success) throw new BenchException($"cannot read dd's output: {stderr}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) / double.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) / 1e6;
    }

    /// <summary>
    /// One TCP stream over 127.0.0.1 between two sockets of this process, MB/s at the receiver (which copies into a
    /// 1 MiB buffer, as any client does). The sender either write()s a 1 MiB buffer or, with <paramref name="sendFile"/>,
    /// sendfile()s a page-cached file: the zero-copy path a server can take (Go's io.Copy does, for distribution).
    /// </summary>
    public static double LoopbackTcpMBps(TimeSpan duration, string? sendFile = null)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        sender.Connect(listener.LocalEndPoint!);
        using var receiver = listener.Accept();
        var stop = false;
        var writer = new Thread(() =>
        {
            var block = new byte[1 << 20];
            Random.Shared.NextBytes(block);
            try
            {
                while (!Volatile.Read(ref stop))
                {
                    if (sendFile is null) sender.Send(block);
                    else sender.SendFile(sendFile);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
            }
        }) { IsBackground = true };
        writer.Start();
        var buffer = new byte[1 << 20];
        // Warm up briefly, then count.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromMilliseconds(300)) receiver.Receive(buffer);
        long total = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration) total += receiver.Receive(buffer);
        var seconds = clock.Elapsed.TotalSeconds;
        Volatile.Write(ref stop, true);
        receiver.Close();
        sender.Close();
        writer.Join(2000);
        return total / seconds / 1e6;
    }
}
