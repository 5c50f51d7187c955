using Berth.Server.Hosting;
using Berth.Server;

namespace Berth.Storage.Tests.AzureBlob;

/// <summary>Bad Azure Blob Storage settings stop start-up with a message naming the setting, never echoing a secret.</summary>
public sealed class AzureBlobConfigurationTests : IDisposable
{
    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "berth-azure-config-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        try { Directory.Delete(_dataPath, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    private InvalidOperationException StartUpError(params string[] arguments) =>
        Assert.Throws<InvalidOperationException>(() => BerthApp.Build(
            ["--urls", "http://127.0.0.1:0", "--Berth:DataPath=" + _dataPath, "--Berth:Storage:Type=AzureBlob", .. arguments]));

    [Fact]
    public void MissingConnectionString_NamesTheSetting()
    {
        var error = StartUpError();
        Assert.Contains("Berth:Storage:AzureBlob:ConnectionString is required", error.Message);
    }

    [Fact]
    public void MalformedConnectionString_IsRejectedWithoutEchoingIt()
    {
        var error = StartUpError("--Berth:Storage:AzureBlob:ConnectionString=AccountName=x;AccountKey=secret123;Nonsense");
        Assert.Contains("Berth:Storage:AzureBlob:ConnectionString is not a valid Azure Storage connection string", error.Message);
        Assert.DoesNotContain("secret123", error.Message);
    }

    [Fact]
    public void InvalidContainerName_NamesTheRules()
    {
        var error = StartUpError("--Berth:Storage:AzureBlob:ConnectionString=UseDevelopmentStorage=true", "--Berth:Storage:AzureBlob:ContainerName=Berth_Blobs");
        Assert.Contains("Berth:Storage:AzureBlob:ContainerName \"Berth_Blobs\"", error.Message);
    }

    [Fact]
    public void RedirectsWithoutAnAccountKey_AreRejected()
    {
        var error = StartUpError(
            "--Berth:Storage:AzureBlob:ConnectionString=BlobEndpoint=https://example.blob.core.windows.net/;SharedAccessSignature=sv=2024-01-01&sig=abc",
            "--Berth:Storage:AzureBlob:RedirectDownloads=true");
        Assert.Contains("RedirectDownloads needs an AccountKey", error.Message);
    }

    [Fact]
    public void ValidSettings_Start()
    {
        using var app = BerthApp.Build(
        [
            "--urls", "http://127.0.0.1:0", "--Berth:DataPath=" + _dataPath, "--Berth:Storage:Type=AzureBlob",
            "--Berth:Storage:AzureBlob:ConnectionString=UseDevelopmentStorage=true", "--Berth:Storage:AzureBlob:RedirectDownloads=true",
            "--Berth:Storage:AzureBlob:RedirectLifetime=00:05:00",
        ]);
    }
}
