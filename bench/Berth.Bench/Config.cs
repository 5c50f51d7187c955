using System.Text.Json;
using System.Text.Json.Serialization;

namespace Berth.Bench;

/// <summary>What bench/run.sh hands the tool: where the servers listen, their pids, credentials and the sizes of this run.</summary>
internal sealed class Config
{
    public bool Quick { get; set; }
    public int Runs { get; set; } = 3;
    public string Scratch { get; set; } = "/tmp";
    public string ResultsDir { get; set; } = "bench/results";
    public string? DocsPath { get; set; }
    public string? Wrk { get; set; }
    public List<string> Notes { get; set; } = [];
    public Dictionary<string, string> Versions { get; set; } = [];

    public BerthEndpoint Berth { get; set; } = new();
    public Endpoint Distribution { get; set; } = new();
    public NginxEndpoint? Nginx { get; set; }

    /// <summary>Several Berth nodes over shared services behind a load balancer (bench/run.sh --scale-out); null when not started.</summary>
    public ScaleOutEndpoint? ScaleOut { get; set; }
    public Sizes Sizes { get; set; } = new();

    public static Config Load(string path) =>
        JsonSerializer.Deserialize<Config>(File.ReadAllText(path), Options) ?? throw new BenchException("empty config");

    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

internal class Endpoint
{
    public string Url { get; set; } = "";
    public int Pid { get; set; }
}

internal sealed class BerthEndpoint : Endpoint
{
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
    public string Service { get; set; } = "";

    /// <summary>"on" when anonymous pull was switched on; otherwise why it could not be.</summary>
    public string Anonymous { get; set; } = "";
}

internal sealed class ScaleOutEndpoint : Endpoint
{
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
    public string Service { get; set; } = "";

    /// <summary>How the set-up is built, for the report ("2 nodes behind nginx; Azurite, PostgreSQL, Redis").</summary>
    public string Description { get; set; } = "";

    /// <summary>The nodes' Azure Blob Storage connection string, to measure the storage service alone next to them.</summary>
    public string StorageConnectionString { get; set; } = "";
}

internal sealed class NginxEndpoint : Endpoint
{
    public string Root { get; set; } = "";
}

internal sealed class Sizes
{
    public int BlobMiB { get; set; } = 512;
    public int ChunkMiB { get; set; } = 16;
    public int BigBlobMiB { get; set; } = 4096;
    public int SmallBlobs { get; set; } = 1000;
    public int SmallBlobKiB { get; set; } = 4;
    public int SmallParallelism { get; set; } = 8;
    public int Tags { get; set; } = 100_000;
    public int Repositories { get; set; } = 10_000;
    public int PageSize { get; set; } = 100;
    public int PopulateParallelism { get; set; } = 16;
    public int PopulateBudgetSeconds { get; set; } = 240;
    public int WalkBudgetSeconds { get; set; } = 20;
    public int LoadSeconds { get; set; } = 10;
    public int[] Connections { get; set; } = [16, 64];
    public int TokenConnections { get; set; } = 16;
    public int Heads { get; set; } = 200;
    public int PhysicalSeconds { get; set; } = 3;
    public int DiskMiB { get; set; } = 1024;
}
