using System.Net;
using System.Text.Json;
using Berth.Core.PullCounts;
using Berth.Redis.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Redis.Tests.MultiNode;

/// <summary>Both nodes flush pull counts five times a second, without throttling the load.</summary>
public sealed class PullCountingNodes : TwoNodes
{
    protected override IEnumerable<string> ExtraArguments =>
        ["--Berth:PullCounts:FlushInterval=00:00:00.2", "--Berth:Throttling:Enabled=false"];
}

public sealed class PullCountTests(PullCountingNodes nodes) : IClassFixture<PullCountingNodes>
{
    [Fact]
    public async Task PullsThroughBothNodes_AddUpExactly()
    {
        // The nodes' flushes go through Redis, one mover adding its totals to the database.
        Assert.IsType<RedisPullCountSink>(nodes.A.Services.GetRequiredService<IPullCountSink>());
        var repository = "pulls/two-nodes";
        var image = new TestImage();
        await nodes.A.Client.PushImageAsync(repository, image, "v1");

        const int pullsPerClient = 25;
        var clients = Enumerable.Range(0, 8)
            .Select(i => (i % 2 == 0 ? nodes.A : nodes.B).CreateClient(nodes.A.Client.DefaultRequestHeaders.Authorization))
            .ToList();
        await Task.WhenAll(clients.Select(async (client, index) =>
        {
            for (var i = 0; i < pullsPerClient; i++)
            {
                // Half by tag, half by digest: the repository counts all, the tag only the first half.
                var reference = index < 4 ? "v1" : image.ManifestDigest;
                using var response = await client.GetAsync($"/v2/{repository}/manifests/{reference}");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        }));
        foreach (var client in clients) client.Dispose();

        var total = 8 * pullsPerClient;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        long count;
        while ((count = await PullCountAsync(nodes.B, $"/acr/v1/{repository}", null)) < total && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Equal(total, count);
        Assert.Equal(total, await PullCountAsync(nodes.A, $"/acr/v1/{repository}", null));
        Assert.Equal(4 * pullsPerClient, await PullCountAsync(nodes.A, $"/acr/v1/{repository}/_tags/v1", "tag"));
    }

    private static async Task<long> PullCountAsync(BerthTestServer node, string path, string? inner)
    {
        using var response = await node.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        using var document = JsonDocument.Parse(body);
        var element = inner is null ? document.RootElement : document.RootElement.GetProperty(inner);
        return element.GetProperty("pullCount").GetInt64();
    }
}
