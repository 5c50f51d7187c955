namespace Berth.Conformance.Tests.TestSupport;

/// <summary>Unique, valid repository names so tests sharing one server never see each other's content.</summary>
public static class Repo
{
    public static string New(string area) => $"conformance/{area}-{Guid.NewGuid().ToString("N")[..12]}";
}
