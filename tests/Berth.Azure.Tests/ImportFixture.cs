using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.Azure.Tests.Infrastructure;
using Berth.Testing;

namespace Berth.Azure.Tests;

/// <summary>
/// The sources <c>az acr import</c> reads from, all on loopback, and the HTTPS Berth that imports:
/// <list type="bullet">
/// <item>CNCF distribution with htpasswd Basic auth over plain HTTP, allowed as a source and for plain HTTP;</item>
/// <item>CNCF distribution without auth over plain HTTP, allowed as a source but not for plain HTTP;</item>
/// <item>a second Berth over plain HTTP (the bearer-token flow and the referrers API), allowed for both;</item>
/// <item>a second registry (<see cref="LocalSource"/>) on the importing server itself.</item>
/// </list>
/// Each holds a multi-platform image with (where the source serves referrers) a referrer.
/// </summary>
public sealed class ImportFixture : IAsyncLifetime
{
    public const string LocalSource = "importsrc";
    public const string MultiRepository = "multi/app";
    public const string SingleRepository = "single/app";

    public HttpsBerthServer Server { get; private set; } = null!;
    public LoopbackGuardProxy Proxy { get; } = new();
    public DistributionServer Distribution { get; private set; } = null!;
    public DistributionServer PlainDistribution { get; private set; } = null!;
    public BerthProcess BerthSource { get; private set; } = null!;
    private readonly string _berthSourceData = Path.Combine(Path.GetTempPath(), "berth-import-source-" + Guid.NewGuid().ToString("N")[..12]);
    private HostsFileEntry? _hosts;

    /// <summary>In the distribution with auth: <c>multi/app:v1</c>, and <c>single/app:v1</c> and <c>:v2</c> (two different images).</summary>
    public MultiPlatformImage DistributionImage { get; } = new();
    public TestImage SingleV1 { get; } = new();
    public TestImage SingleV2 { get; } = new();

    /// <summary>In the distribution with auth: <c>broken/app:v1</c>, whose arm64 layer was deleted after the push.</summary>
    public MultiPlatformImage BrokenImage { get; } = new();

    /// <summary>In the Berth source and in the local source registry: <c>multi/app:v1</c> with its referrer.</summary>
    public MultiPlatformImage BerthSourceImage { get; } = new();
    public MultiPlatformImage LocalSourceImage { get; } = new();

    public string LocalSourceLoginServer => $"{LocalSource}.{Server.LoginServerSuffix}";

    public async Task InitializeAsync()
    {
        if (!ExternalTool.IsInstalled("az"))
            throw new InvalidOperationException("The Azure CLI (az) is not installed: apt-get install -y azure-cli (scripts/test.sh installs it).");
        Distribution = await DistributionServer.StartAsync(basicAuth: true);
        PlainDistribution = await DistributionServer.StartAsync(basicAuth: false);
        Directory.CreateDirectory(_berthSourceData);
        BerthSource = new BerthProcess(_berthSourceData) { Name = "berth-import-source" };
        await BerthSource.StartAsync();

        Server = await HttpsBerthServer.StartAsync(
            $"--Berth:Import:AllowedSources:0={Distribution.Address}",
            $"--Berth:Import:AllowedSources:1={PlainDistribution.Address}",
            $"--Berth:Import:AllowedSources:2={BerthSource.Address}",
            $"--Berth:ArtifactCache:AllowHttpUpstreams:0={Distribution.Address}",
            $"--Berth:ArtifactCache:AllowHttpUpstreams:1={BerthSource.Address}");
        _hosts = new HostsFileEntry(["management.localhost", "login.localhost", "myregistry.acr.localhost", $"{LocalSource}.acr.localhost"]);

        using (var distribution = Distribution.CreateClient())
        {
            await DistributionImage.PushAsync(distribution, MultiRepository, "v1", withReferrer: false);
            await PushAsync(distribution, SingleV1, "v1");
            await PushAsync(distribution, SingleV2, "v2");
            await BrokenImage.PushAsync(distribution, "broken/app", "v1", withReferrer: false);
            using var deleted = await distribution.DeleteAsync($"/v2/broken/app/blobs/{BrokenImage.Arm64.LayerDigest}");
            await RegistryHttp.EnsureStatusAsync(deleted, System.Net.HttpStatusCode.Accepted, "deleting a blob from distribution");
        }
        using (var plain = PlainDistribution.CreateClient())
            await PushAsync(plain, SingleV1, "v1");
        using (var berth = BerthSource.CreateClient())
            await BerthSourceImage.PushAsync(berth, MultiRepository, "v1");
        await CreateLocalSourceAsync();
    }

    /// <summary>Distribution 2.8 answers a monolithic POST with an upload session, so blobs go in two requests.</summary>
    private static async Task PushAsync(HttpClient client, TestImage image, string tag)
    {
        await RegistryHttp.PushBlobInTwoRequestsAsync(client, SingleRepository, image.Layer);
        await RegistryHttp.PushBlobInTwoRequestsAsync(client, SingleRepository, image.Config);
        await client.PushManifestAsync(SingleRepository, tag, image.Manifest);
    }

    /// <summary>Creates the second registry through ARM with its admin user on, and pushes its image with those credentials.</summary>
    private async Task CreateLocalSourceAsync()
    {
        using var arm = Server.CreateClient(new AuthenticationHeaderValue("Bearer", await ManagementTokenAsync()));
        var defaultRegistry = await RegistryIdAsync(arm, "myregistry");
        var path = defaultRegistry[..(defaultRegistry.LastIndexOf('/') + 1)] + LocalSource;
        using (var put = await arm.PutAsync($"{path}?api-version=2022-02-01-preview", Json(new JsonObject
        {
            ["location"] = "local",
            ["sku"] = new JsonObject { ["name"] = "Standard" },
            ["properties"] = new JsonObject { ["adminUserEnabled"] = true },
        })))
        {
            if (!put.IsSuccessStatusCode) throw new InvalidOperationException($"creating the source registry: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }
        using var credentials = await arm.PostAsync($"{path}/listCredentials?api-version=2022-02-01-preview", null);
        using var document = JsonDocument.Parse(await credentials.Content.ReadAsStringAsync());
        var username = document.RootElement.GetProperty("username").GetString()!;
        var password = document.RootElement.GetProperty("passwords")[0].GetProperty("value").GetString()!;

        using var client = Server.CreateClient(new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"))));
        client.BaseAddress = new Uri($"https://{LocalSourceLoginServer}/");
        await LocalSourceImage.PushAsync(client, MultiRepository, "v1");
    }

    public async Task<string> ManagementTokenAsync()
    {
        using var client = Server.CreateClient();
        using var response = await client.PostAsync("/adfs/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = Server.OwnerClientId,
            ["grant_type"] = "client_credentials",
            ["client_secret"] = Server.OwnerClientSecret,
            ["scope"] = ManagementAccess.ArmResource + "/.default",
        }));
        await RegistryHttp.EnsureStatusAsync(response, System.Net.HttpStatusCode.OK, "signing in to management");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("access_token").GetString()!;
    }

    public static async Task<string> RegistryIdAsync(HttpClient arm, string name)
    {
        using var response = await arm.GetAsync("/subscriptions?api-version=2019-11-01");
        using var subscriptions = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var subscription = subscriptions.RootElement.GetProperty("value")[0].GetProperty("subscriptionId").GetString();
        using var list = await arm.GetAsync($"/subscriptions/{subscription}/providers/Microsoft.ContainerRegistry/registries?api-version=2022-02-01-preview");
        using var registries = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
        return registries.RootElement.GetProperty("value").EnumerateArray()
            .First(r => r.GetProperty("name").GetString() == name).GetProperty("id").GetString()!;
    }

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    public async Task DisposeAsync()
    {
        _hosts?.Dispose();
        await Proxy.DisposeAsync();
        if (Server is not null) await Server.DisposeAsync();
        BerthSource?.Dispose();
        try { Directory.Delete(_berthSourceData, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        if (Distribution is not null) await Distribution.DisposeAsync();
        if (PlainDistribution is not null) await PlainDistribution.DisposeAsync();
    }
}
