namespace Berth.Azure.Tests.Infrastructure;

/// <summary>
/// One line added to /etc/hosts (the resolver here does not map <c>*.localhost</c> by itself) and removed again on
/// dispose: exactly that line, recognised by a unique marker, so other tests' lines and the rest of the file stay.
/// </summary>
public sealed class HostsFileEntry : IDisposable
{
    private const string HostsPath = "/etc/hosts";
    private static readonly object Gate = new();
    private readonly string _line;

    public HostsFileEntry(IEnumerable<string> names)
    {
        _line = $"127.0.0.1 {string.Join(' ', names)} # berth-azure-tests {Guid.NewGuid():N}";
        lock (Gate)
        {
            var text = File.ReadAllText(HostsPath);
            if (text.Length > 0 && !text.EndsWith('\n')) text += "\n";
            File.WriteAllText(HostsPath, text + _line + "\n"); // in place: /etc/hosts may be a bind mount
        }
    }

    public void Dispose()
    {
        lock (Gate)
        {
            var lines = File.ReadAllLines(HostsPath);
            var kept = lines.Where(l => l != _line).ToArray();
            if (kept.Length != lines.Length)
                File.WriteAllText(HostsPath, kept.Length == 0 ? "" : string.Join('\n', kept) + "\n");
        }
    }
}
