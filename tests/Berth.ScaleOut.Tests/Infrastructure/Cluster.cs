using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Berth.ScaleOut.Tests.Infrastructure;

/// <summary>
/// Two Berth nodes with identical settings over <see cref="SharedServices"/>, behind <see cref="NginxServer"/>. Clients
/// talk to <see cref="Host"/> (nginx) unless a test needs one node directly. Node A starts first and creates the default
/// registry, its admin user and the management owner; node B joins the existing state. Nothing node A writes into its
/// own data folder is handed to B: B gets only the shared settings.
/// </summary>
public sealed class Cluster : IAsyncLifetime, IRegistryEndpoint
{
    /// <summary>The registry node A creates on first start; requests whose Host names no registry reach it.</summary>
    public const string DefaultRegistry = "myregistry";

    /// <summary>
    /// A Premium registry with tiny token budgets for the shared-throttle test; every other test uses the default
    /// (Standard) registry, whose budgets stay at their defaults so pushes are never throttled.
    /// </summary>
    public const string ThrottledRegistry = "throttledpremium";

    /// <summary>Premium tier token budget (burst, and per-minute so refill is negligible during a test).</summary>
    public const int PremiumTokenBurst = 40;

    /// <summary>All anonymous callers of a registry share this fraction of an identity's budget.</summary>
    public const double AnonymousShare = 0.5;

    private readonly TempDirectory _folder = new("cluster");
    private SharedServices? _services;

    public SharedServices Services => _services ?? throw new InvalidOperationException("The cluster has not started.");

    public BerthNode NodeA { get; private set; } = null!;

    public BerthNode NodeB { get; private set; } = null!;

    public IReadOnlyList<BerthNode> Nodes => [NodeA, NodeB];

    public NginxServer Nginx { get; private set; } = null!;

    /// <summary>nginx's <c>host:port</c>: the registry's address as every client here knows it.</summary>
    public string Host => Nginx.Host;

    /// <summary>The default registry's admin user, "user:password".</summary>
    public string? Credentials { get; private set; }

    public async Task InitializeAsync()
    {
        _services = await SharedServices.StartAsync(_folder);
        var settings = new Dictionary<string, string>(_services.Settings)
        {
            ["DefaultRegistry"] = DefaultRegistry,
            // nginx reaches the nodes from loopback; its X-Forwarded-For and X-Forwarded-Proto are believed.
            ["TrustedProxies:0"] = "127.0.0.1",
            ["Throttling:Premium:Token:Burst"] = PremiumTokenBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Throttling:Premium:Token:PerMinute"] = "1",
            ["Throttling:AnonymousShare"] = AnonymousShare.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // Every anonymous request reaches the nodes from nginx's address, so the per-address budget is the whole
            // anonymous budget here.
            ["Throttling:AnonymousPerAddressShare"] = AnonymousShare.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        NodeA = CreateNode("A", settings);
        // Only the first node may recover a lost owner secret; B finding no owner.json of its own is normal.
        NodeB = CreateNode("B", new Dictionary<string, string>(settings) { ["Management:ReissueLostOwnerSecret"] = "false" });

        await NodeA.StartAsync();
        Credentials = await ReadAdminCredentialsAsync(NodeA.DataDirectory);
        await NodeB.StartAsync();
        Nginx = await NginxServer.StartAsync([NodeA.Address, NodeB.Address]);
    }

    public async Task DisposeAsync()
    {
        Nginx?.Dispose();
        NodeA?.Dispose();
        NodeB?.Dispose();
        if (_services is not null) await _services.DisposeAsync();
        _folder.Dispose();
    }

    public BerthNode NodeAt(string upstreamAddress) =>
        Nodes.FirstOrDefault(n => n.Address == upstreamAddress) ?? throw new InvalidOperationException($"{upstreamAddress} is no node of this cluster.");

    /// <summary>A client aimed at nginx, with the admin credentials unless <paramref name="anonymous"/>.</summary>
    public HttpClient CreateHttpClient(bool anonymous = false) => CreateHttpClient(Nginx.BaseAddress, anonymous ? null : Credentials);

    public static HttpClient CreateHttpClient(Uri baseAddress, string? credentials)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromMinutes(3),
        };
        if (credentials is not null)
        {
            client.DefaultRequestHeaders.Authorization =
                new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }
        return client;
    }

    /// <summary>
    /// A client for the management plane of <paramref name="node"/>, signed in as the owner whose secret node A wrote
    /// to its data folder (the only place it exists in clear).
    /// </summary>
    public async Task<(HttpClient Client, string RegistriesPath)> CreateManagementClientAsync(BerthNode node)
    {
        using var owner = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(NodeA.DataDirectory, "management", "owner.json")));
        var root = owner.RootElement;
        using var signIn = CreateHttpClient(node.BaseAddress, credentials: null);
        using var response = await signIn.PostAsync("adfs/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["client_id"] = root.GetProperty("clientId").GetString()!,
            ["client_secret"] = root.GetProperty("clientSecret").GetString()!,
            ["grant_type"] = "client_credentials",
            ["scope"] = "https://management.core.windows.net//.default",
        }));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"management sign-in on node {node.Name} failed: {(int)response.StatusCode} {body}");
        using var token = JsonDocument.Parse(body);
        var client = CreateHttpClient(node.BaseAddress, credentials: null);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.RootElement.GetProperty("access_token").GetString());
        var path = $"subscriptions/{root.GetProperty("subscriptionId").GetString()}/resourceGroups/{root.GetProperty("resourceGroup").GetString()}/providers/Microsoft.ContainerRegistry/registries";
        return (client, path);
    }

    /// <summary>
    /// Waits until nginx sends requests to both nodes again (it leaves a node that failed alone for a while), so the
    /// next test sees the alternation it expects.
    /// </summary>
    public async Task WaitUntilBalancedAsync()
    {
        using var client = CreateHttpClient(anonymous: true);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var start = Nginx.ReadAccessLog().Count;
            for (var i = 0; i < 2; i++)
            {
                using var response = await client.GetAsync("healthz");
            }
            var servedBy = (await Nginx.ReadAccessLogAsync(start + 2)).Skip(start).Where(e => e.Proxied).Select(e => e.ServedBy).Distinct().Count();
            if (servedBy == 2) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"nginx did not route to both nodes again within 30 s.\n{Diagnostics()}");
            await Task.Delay(500);
        }
    }

    /// <summary>Where a test's failure message should look: both nodes' output and nginx's error log.</summary>
    public string Diagnostics() =>
        $"--- node A ---\n{Tail(NodeA.Output)}\n--- node B ---\n{Tail(NodeB.Output)}\n--- nginx error.log ---\n{Tail(Nginx.ErrorLog)}";

    private BerthNode CreateNode(string name, IReadOnlyDictionary<string, string> settings)
    {
        var data = _folder.Combine("node-" + name);
        Services.PrepareDataDirectory(data);
        return new BerthNode(name, data, settings);
    }

    private static async Task<string> ReadAdminCredentialsAsync(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, "admin-credentials.json");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var json = JsonDocument.Parse(await File.ReadAllBytesAsync(path));
                return json.RootElement.GetProperty("username").GetString() + ":" + json.RootElement.GetProperty("password").GetString();
            }
            // The file is created first and filled after; retry until it parses.
            catch (Exception e) when (e is IOException or JsonException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static string Tail(string text) => text.Length <= 8000 ? text : "…" + text[^8000..];
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<Cluster>
{
    public const string Name = "Scale-out cluster";
}
