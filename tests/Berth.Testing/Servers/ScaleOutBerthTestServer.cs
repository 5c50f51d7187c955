namespace Berth.Testing;

/// <summary>
/// The test server in the scale-out configuration: metadata in PostgreSQL (see <see cref="PostgreSqlBerthTestServer"/>)
/// and blobs in Azure Blob Storage, a container of its own in the process's <see cref="AzuriteServer"/>.
/// With <paramref name="redirectDownloads"/> blob GETs answer 307 to a signed URL on Azurite.
/// </summary>
public class ScaleOutBerthTestServer(bool throttled = true, bool redirectDownloads = false) : PostgreSqlBerthTestServer(throttled)
{
    private AzuriteServer? _azurite;

    public string ContainerName { get; private set; } = null!;

    public bool RedirectDownloads => redirectDownloads;

    protected override IEnumerable<string> ExtraArguments =>
    [
        .. base.ExtraArguments,
        "--Berth:Storage:Type=AzureBlob",
        "--Berth:Storage:AzureBlob:ConnectionString=" + _azurite!.ConnectionString,
        "--Berth:Storage:AzureBlob:ContainerName=" + ContainerName,
        "--Berth:Storage:AzureBlob:RedirectDownloads=" + (redirectDownloads ? "true" : "false"),
    ];

    public override async Task InitializeAsync()
    {
        _azurite = await AzuriteServer.GetAsync();
        ContainerName = await _azurite.CreateContainerAsync("server");
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            if (_azurite is not null && ContainerName is not null) await _azurite.DeleteContainerAsync(ContainerName);
        }
    }
}
