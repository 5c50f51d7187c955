using Berth.Server.Hosting;
using Berth.Server;

namespace Berth.Metadata.PostgreSql.Tests;

/// <summary>Provider choice by configuration: bad values stop start-up with a message naming the setting and its values.</summary>
public sealed class ProviderConfigurationTests : IDisposable
{
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "berth-providers-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try { Directory.Delete(_dataPath, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    private InvalidOperationException StartUpError(params string[] arguments) =>
        Assert.Throws<InvalidOperationException>(() => BerthApp.Build(["--urls", "http://127.0.0.1:0", "--Berth:DataPath=" + _dataPath, .. arguments]));

    [Fact]
    public void UnknownDatabaseType_ListsTheValidOnes()
    {
        var error = StartUpError("--Berth:Database:Type=Mongo");
        Assert.Contains("Berth:Database:Type \"Mongo\"", error.Message);
        Assert.Contains("Sqlite, PostgreSql", error.Message);
    }

    [Fact]
    public void UnknownStorageType_ListsTheValidOnes()
    {
        var error = StartUpError("--Berth:Storage:Type=S3");
        Assert.Contains("Berth:Storage:Type \"S3\"", error.Message);
        Assert.Contains("FileSystem, AzureBlob", error.Message);
    }

    [Fact]
    public void PostgreSqlWithoutConnectionString_NamesTheMissingSetting()
    {
        var error = StartUpError("--Berth:Database:Type=PostgreSql");
        Assert.Contains("Berth:Database:ConnectionString is required", error.Message);
    }

    [Fact]
    public void MalformedConnectionString_IsRejectedWithoutEchoingIt()
    {
        var error = StartUpError("--Berth:Database:Type=postgresql", "--Berth:Database:ConnectionString=Hots=x;Password=secret123");
        Assert.Contains("not a valid PostgreSQL connection string", error.Message);
        Assert.DoesNotContain("secret123", error.Message);
    }

    [Fact]
    public void ConnectionStringWithSqlite_IsRejected()
    {
        var error = StartUpError("--Berth:Database:ConnectionString=Host=x");
        Assert.Contains("Berth:Database:Type=PostgreSql", error.Message);
    }
}
