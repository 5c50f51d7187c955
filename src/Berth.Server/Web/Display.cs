using System.Globalization;

namespace Berth.Server.Web;

/// <summary>How values read as text on the pages: sizes in binary units (exact bytes go in a title), times in UTC, short digests.</summary>
public static class Display
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static string Size(long bytes)
    {
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + Units[unit];
    }

    public static string ExactBytes(long bytes) => bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes";

    /// <summary>The machine-readable form for <c>&lt;time datetime&gt;</c>.</summary>
    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>The algorithm and the first 12 hex digits, as docker and podman print image IDs.</summary>
    public static string ShortDigest(Digest digest) => digest.Algorithm + ":" + digest.Encoded[..Math.Min(12, digest.Encoded.Length)];

    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Only http(s) annotation values become links; anything else (javascript:, data:) stays text.</summary>
    public static bool IsWebLink(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
