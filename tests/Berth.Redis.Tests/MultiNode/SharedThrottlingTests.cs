using System.Net;
using Berth.Redis.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Berth.Redis.Tests.MultiNode;

/// <summary>
/// Both nodes with a small anonymous read budget: all anonymous callers together may burst 20 reads (40 × 0.5) and
/// refill one every 20 s, so what a drain admits is the burst, with no refill worth counting. One address may use all of it.
/// </summary>
public sealed class ThrottledNodes : TwoNodes
{
    public const int AnonymousBurst = 20;

    protected override IEnumerable<string> ExtraArguments =>
    [
        "--Berth:Throttling:Standard:Read:PerMinute=6",
        "--Berth:Throttling:Standard:Read:Burst=40",
        "--Berth:Throttling:AnonymousShare=0.5",
        "--Berth:Throttling:AnonymousPerAddressShare=0.5",
    ];
}

public sealed class SharedThrottlingTests(ThrottledNodes nodes, ITestOutputHelper output) : IClassFixture<ThrottledNodes>
{
    [Fact]
    public async Task AnonymousBudget_IsOneBudgetAcrossNodes()
    {
        await nodes.A.SetAnonymousPullAsync(true);
        var token = await TwoNodes.GetAccessTokenOrNullAsync(nodes.A, "registry:catalog:*");
        Assert.NotNull(token);
        using var onA = nodes.A.CreateClient(TwoNodes.Bearer(token!));
        using var onB = nodes.B.CreateClient(TwoNodes.Bearer(token!));

        var admitted = 0;
        var refused = 0;
        for (var i = 0; i < 2 * ThrottledNodes.AnonymousBurst + 10; i++)
        {
            using var response = await (i % 2 == 0 ? onA : onB).GetAsync("/v2/_catalog");
            if (response.StatusCode == HttpStatusCode.OK) admitted++;
            else if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused++;
                Assert.True(response.Headers.RetryAfter?.Delta?.TotalSeconds >= 1, "a 429 without Retry-After");
            }
            else Assert.Fail($"unexpected {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        output.WriteLine($"alternating A and B: {admitted} admitted, {refused} refused");
        // Two separate in-memory budgets would admit twice the burst.
        Assert.InRange(admitted, ThrottledNodes.AnonymousBurst, ThrottledNodes.AnonymousBurst + 1);
    }
}
