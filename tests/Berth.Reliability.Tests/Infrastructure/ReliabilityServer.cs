namespace Berth.Reliability.Tests.Infrastructure;

/// <summary>
/// How these tests run <c>berth serve</c> as its own process (<see cref="BerthProcess"/>) over a data folder that outlives
/// it. Throttling is off: the crash workload is one identity sending many writes, and the tests are about durability and
/// what the process leaves on disk, not budgets. Warnings only, so a long run's log stays small.
/// </summary>
internal static class ReliabilityServer
{
    /// <param name="https">Serve https with the local CA; the test checks the certificate and protocol itself.</param>
    /// <param name="environment">Added to the server's environment (e.g. an OpenSSL configuration, which is process-wide and so cannot be tried in the test process).</param>
    public static BerthProcess Create(string dataDirectory, bool https = false, IReadOnlyDictionary<string, string>? environment = null) =>
        new(dataDirectory)
        {
            Arguments = ["--Berth:Throttling:Enabled=false", "--Logging:LogLevel:Default=Warning"],
            Https = https,
            Environment = environment ?? new Dictionary<string, string>(),
        };
}
