namespace Berth.Testing;

/// <summary>
/// Measurements worth seeing even when every test passes. The VSTest console logger hides a passing test's
/// output, so scripts/test.sh prints this file after the run; BERTH_E2E_MEASUREMENTS names it.
/// </summary>
public static class MeasurementLog
{
    public static void Write(string line)
    {
        var path = Environment.GetEnvironmentVariable("BERTH_E2E_MEASUREMENTS");
        if (string.IsNullOrEmpty(path))
        {
            return;
        }
        lock (typeof(MeasurementLog))
        {
            File.AppendAllText(path, line + Environment.NewLine);
        }
    }
}
