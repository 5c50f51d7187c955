using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Berth.Bench;

internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return double.NaN;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Nearest-rank percentile of an unsorted sample (sorted in place).</summary>
    public static double Percentile(List<double> sample, double p)
    {
        if (sample.Count == 0) return double.NaN;
        sample.Sort();
        var rank = (int)Math.Ceiling(p / 100.0 * sample.Count);
        return sample[Math.Clamp(rank - 1, 0, sample.Count - 1)];
    }

    public static string Format(double value, int decimals = 1) =>
        double.IsNaN(value) ? "n/a" : value.ToString(value >= 100 ? "N0" : "N" + decimals, CultureInfo.InvariantCulture);
}

/// <summary>
/// Deterministic blob content that is never held whole in memory: the bytes at position p are a shared 8 MiB random
/// pattern at p mod 8 MiB, except the first 16 bytes, which hold a per-blob nonce so every blob has its own digest.
/// </summary>
internal static class Streams
{
    /// <summary>Reads <paramref name="stream"/> to its end through <paramref name="buffer"/>, discarding the bytes; returns how many there were.</summary>
    public static async Task<long> DrainAsync(Stream stream, byte[] buffer)
    {
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0) total += read;
        return total;
    }
}

internal sealed class PatternBlob
{
    private const int PatternLength = 8 << 20;
    private static readonly byte[] Pattern = CreatePattern();
    private readonly byte[] _head;

    public long Size { get; }
    public string Digest { get; }

    public PatternBlob(long size, long nonce)
    {
        Size = size;
        _head = new byte[(int)Math.Min(size, PatternLength)];
        Array.Copy(Pattern, _head, _head.Length);
        var nonceBytes = new byte[16];
        BitConverter.TryWriteBytes(nonceBytes.AsSpan(0, 8), nonce);
        BitConverter.TryWriteBytes(nonceBytes.AsSpan(8, 8), Environment.TickCount64 ^ Random.Shared.NextInt64());
        nonceBytes.AsSpan(0, Math.Min(16, _head.Length)).CopyTo(_head);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        ForEachSlice(0, size, slice => hash.AppendData(slice.Span));
        Digest = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static byte[] CreatePattern()
    {
        var pattern = new byte[PatternLength];
        new Random(20240607).NextBytes(pattern);
        return pattern;
    }

    /// <summary>Calls <paramref name="action"/> with consecutive read-only slices (at most 1 MiB) covering [offset, offset+count).</summary>
    public void ForEachSlice(long offset, long count, Action<ReadOnlyMemory<byte>> action)
    {
        var end = offset + count;
        while (offset < end)
        {
            var (buffer, start, length) = SliceAt(offset, end);
            action(new ReadOnlyMemory<byte>(buffer, start, length));
            offset += length;
        }
    }

    public async Task WriteAsync(Stream stream, long offset, long count, CancellationToken cancel = default)
    {
        var end = offset + count;
        while (offset < end)
        {
            var (buffer, start, length) = SliceAt(offset, end);
            await stream.WriteAsync(buffer.AsMemory(start, length), cancel);
            offset += length;
        }
    }

    private (byte[] Buffer, int Start, int Length) SliceAt(long offset, long end)
    {
        var inPattern = (int)(offset % PatternLength);
        var length = (int)Math.Min(Math.Min(1 << 20, PatternLength - inPattern), end - offset);
        return offset < _head.Length ? (_head, (int)offset, Math.Min(length, _head.Length - (int)offset)) : (Pattern, inPattern, length);
    }

    public HttpContent Content(long offset, long count) => new RangeContent(this, offset, count);

    private sealed class RangeContent(PatternBlob blob, long offset, long count) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            blob.WriteAsync(stream, offset, count);

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken) =>
            blob.WriteAsync(stream, offset, count, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = count;
            return true;
        }
    }
}

/// <summary>Resident-set readings of a server process from /proc: VmRSS now, VmHWM (peak since the last reset).</summary>
internal sealed class ProcessMemory(int pid)
{
    private double _peakBeforeResets;

    public int Pid => pid;

    public double RssMiB => Read("VmRSS");
    public double HwmMiB => Read("VmHWM");

    /// <summary>The peak over the whole run, including the peaks of phases before a <see cref="ResetPeak"/>.</summary>
    public double RunPeakMiB => Math.Max(_peakBeforeResets, HwmMiB);

    /// <summary>Resets VmHWM to the current RSS (writing 5 to /proc/pid/clear_refs), so the next reading is a phase's own peak.</summary>
    public bool ResetPeak()
    {
        _peakBeforeResets = Math.Max(_peakBeforeResets, HwmMiB);
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private double Read(string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
                var kb = double.Parse(Regex.Match(line, @"\d+").Value, CultureInfo.InvariantCulture);
                return kb / 1024.0;
            }
        }
        catch (Exception)
        {
        }
        return double.NaN;
    }
}

internal static class Shell
{
    /// <summary>Runs one measuring tool (openssl, dd, wrk) to completion; never used per request.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}

internal static class Headers
{
    public static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}")));
}
