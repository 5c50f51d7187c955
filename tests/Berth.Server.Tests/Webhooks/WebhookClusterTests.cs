using System.Net;
using Berth.Server.Tests.Management;

namespace Berth.Server.Tests.Webhooks;

/// <summary>
/// Two nodes sharing one PostgreSQL database (and data folder) both run the dispatcher; each event still reaches the
/// receiver once, because a delivery is claimed with <c>FOR UPDATE SKIP LOCKED</c> under a lease.
/// </summary>
public sealed class WebhookClusterTests : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;
    private NodeA _a = null!;
    private NodeB _b = null!;

    private static IEnumerable<string> WebhookArguments(WebhookReceiver receiver) => WebhookTestServer.Arguments(receiver);

    private sealed class NodeA(WebhookReceiver receiver) : PostgreSqlBerthTestServer(throttled: false)
    {
        protected override IEnumerable<string> ExtraArguments => [.. base.ExtraArguments, .. WebhookArguments(receiver)];
    }

    /// <summary>The second node: node A's database and data folder (keys included), its own process state.</summary>
    private sealed class NodeB : BerthTestServer
    {
        private readonly IEnumerable<string> _arguments;

        public NodeB(NodeA a, WebhookReceiver receiver)
        {
            DataPath = a.DataPath;
            _arguments = ["--Berth:Database:Type=PostgreSql", "--Berth:Database:ConnectionString=" + a.ConnectionString, .. WebhookArguments(receiver)];
        }

        protected override IEnumerable<string> ExtraArguments => _arguments;
    }

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _a = new NodeA(_receiver);
        await _a.InitializeAsync();
        _b = new NodeB(_a, _receiver);
        await _b.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task TwoNodes_DeliverEachEventOnce()
    {
        using var management = await _a.CreateManagementClientAsync();
        var path = _a.RegistryPath(_a.RegistryName) + "/webhooks/clusterhook";
        Assert.Equal(HttpStatusCode.Created, (await management.SendAsync(HttpMethod.Put, path, WebhookApi.CreateBody(_receiver.Url("/cluster"), ["push"]))).Status);

        const int pushes = 30;
        for (var i = 0; i < pushes; i++)
        {
            var node = i % 2 == 0 ? (BerthTestServer)_a : _b;
            var pushed = await Arm.PushSmallImageReturningManifestAsync(node.Client, node.Host, null, "cluster/app", $"v{i}");
            Assert.Equal(HttpStatusCode.Created, pushed.Status);
        }

        // Every event recorded as delivered (by either node); only then is the receiver's count final.
        var events = await WebhookApi.WaitForEventsAsync(management, path,
            e => e.Count(a => a["eventResponseMessage"]!["statusCode"]?.GetValue<string>() == "200") >= pushes);
        Assert.Equal(pushes, events.Count);
        var received = _receiver.Received.Where(r => r.Path == "/cluster").ToList();
        Assert.Equal(pushes, received.Count);
        Assert.Equal(pushes, received.Select(r => r.Body["id"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, pushes).Select(i => $"v{i}").Order(), received.Select(r => r.Body["target"]!["tag"]!.GetValue<string>()).Order());
    }
}
