using System.Net;
using Berth.Core.Identity;
using Berth.Core.Registries;
using Berth.Core.Throttling;
using Microsoft.Extensions.Options;
using Berth.Core.Storage;

namespace Berth.Core.Tests.Throttling;

public sealed class ThrottlePolicyTests
{
    private static readonly UInt128 AddressA = ClientAddress.ToKey(IPAddress.Parse("127.0.0.2"));
    private static readonly UInt128 AddressB = ClientAddress.ToKey(IPAddress.Parse("127.0.0.3"));

    private readonly ManualTimeProvider _time = new();

    [Fact]
    public async Task AnonymousAddress_IsRefusedAfterItsShareOfTheBurst()
    {
        // Standard reads: a bucket of 3,000; one anonymous address gets 10% of it.
        var policy = Policy();
        var registry = Standard("myregistry");

        var admitted = await CountAdmittedAsync(() => policy.AdmitAnonymousAsync(registry, AddressA, ThrottleCategory.Read, default), 1000);

        Assert.Equal(300, admitted);
    }

    [Fact]
    public async Task TwoAnonymousAddresses_AreLimitedIndependently()
    {
        var policy = Policy();
        var registry = Standard("myregistry");
        await CountAdmittedAsync(() => policy.AdmitAnonymousAsync(registry, AddressA, ThrottleCategory.Read, default), 1000);

        var decision = await policy.AdmitAnonymousAsync(registry, AddressB, ThrottleCategory.Read, default);

        Assert.True(decision.Allowed);
    }

    [Fact]
    public async Task AllAnonymousAddresses_ShareOneAnonymousBudget()
    {
        // Standard reads: the shared anonymous bucket holds half of 3,000, one address a tenth.
        var policy = Policy();
        var registry = Standard("myregistry");
        var admitted = 0;
        for (var host = 1; host <= 10; host++)
        {
            var address = ClientAddress.ToKey(IPAddress.Parse($"10.0.0.{host}"));
            admitted += await CountAdmittedAsync(() => policy.AdmitAnonymousAsync(registry, address, ThrottleCategory.Read, default), 300);
        }

        Assert.Equal(1500, admitted);
    }

    [Fact]
    public async Task RefusedAddress_DoesNotDrainTheSharedAnonymousBudget()
    {
        var policy = Policy();
        var registry = Standard("myregistry");
        await CountAdmittedAsync(() => policy.AdmitAnonymousAsync(registry, AddressA, ThrottleCategory.Read, default), 10_000);

        var admittedElsewhere = 0;
        for (var host = 1; host <= 5; host++)
        {
            var address = ClientAddress.ToKey(IPAddress.Parse($"10.0.0.{host}"));
            admittedElsewhere += await CountAdmittedAsync(() => policy.AdmitAnonymousAsync(registry, address, ThrottleCategory.Read, default), 300);
        }

        // The shared 1,500 less the 300 the flooding address was admitted: its refused requests cost nothing.
        Assert.Equal(1200, admittedElsewhere);
    }

    [Fact]
    public async Task AnonymousFlood_LeavesTheAdminBudgetWhole()
    {
        var policy = Policy();
        var registry = Standard("myregistry");
        for (var host = 1; host <= 20; host++)
        {
            var address = ClientAddress.ToKey(IPAddress.Parse($"10.0.0.{host}"));
            await CountAdmittedAsync(() => policy.AdmitAnonymousAsync(registry, address, ThrottleCategory.Read, default), 100);
        }

        var admin = await policy.AdmitAsync(registry, Admin("myregistry"), AddressA, ThrottleCategory.Read, default);

        Assert.True(admin.Allowed);
        Assert.Equal(2999, admin.Remaining);
    }

    [Fact]
    public async Task Identities_HaveTheirOwnBuckets()
    {
        var policy = Policy();
        var registry = Standard("myregistry");
        await CountAdmittedAsync(() => policy.AdmitAsync(registry, Token("myregistry", "ci"), AddressA, ThrottleCategory.Write, default), 1000);

        var other = await policy.AdmitAsync(registry, Token("myregistry", "deploy"), AddressA, ThrottleCategory.Write, default);

        Assert.True(other.Allowed);
    }

    [Fact]
    public async Task Registries_HaveTheirOwnBuckets()
    {
        var policy = Policy();
        await CountAdmittedAsync(() => policy.AdmitAsync(Standard("first"), Admin("first"), AddressA, ThrottleCategory.Write, default), 1000);

        var other = await policy.AdmitAsync(Standard("second"), Admin("second"), AddressA, ThrottleCategory.Write, default);

        Assert.True(other.Allowed);
    }

    [Fact]
    public async Task Categories_HaveTheirOwnBuckets()
    {
        var policy = Policy();
        var registry = Standard("myregistry");
        await CountAdmittedAsync(() => policy.AdmitAsync(registry, Admin("myregistry"), AddressA, ThrottleCategory.Write, default), 1000);

        var read = await policy.AdmitAsync(registry, Admin("myregistry"), AddressA, ThrottleCategory.Read, default);

        Assert.True(read.Allowed);
    }

    [Theory]
    [InlineData(RegistrySku.Basic, 100)]
    [InlineData(RegistrySku.Standard, 500)]
    [InlineData(RegistrySku.Premium, 2000)]
    public async Task WriteBurst_IsSizedByTier(RegistrySku sku, int expected)
    {
        var policy = Policy();
        var registry = Standard("myregistry") with { Sku = sku };

        var admitted = await CountAdmittedAsync(() => policy.AdmitAsync(registry, Admin("myregistry"), AddressA, ThrottleCategory.Write, default), 10_000);

        Assert.Equal(expected, admitted);
    }

    [Fact]
    public async Task TierOverride_ReplacesTheDefault()
    {
        var options = new ThrottlingOptions();
        options.Basic.Write.Burst = 3;
        var policy = Policy(options);
        var registry = Standard("myregistry") with { Sku = RegistrySku.Basic };

        var admitted = await CountAdmittedAsync(() => policy.AdmitAsync(registry, Admin("myregistry"), AddressA, ThrottleCategory.Write, default), 100);

        Assert.Equal(3, admitted);
    }

    [Fact]
    public async Task RefusedAddress_IsAdmittedAgainAfterRefill()
    {
        var policy = Policy();
        var registry = Standard("myregistry");
        await CountAdmittedAsync(() => policy.AdmitAnonymousAsync(registry, AddressA, ThrottleCategory.Read, default), 1000);
        var refused = await policy.AdmitAnonymousAsync(registry, AddressA, ThrottleCategory.Read, default);

        _time.Advance(refused.RetryAfter);

        Assert.False(refused.Allowed);
        Assert.True((await policy.AdmitAnonymousAsync(registry, AddressA, ThrottleCategory.Read, default)).Allowed);
    }

    [Fact]
    public async Task ConcurrentWrongPasswords_AreCheckedAtMostOncePerAttemptInTheBudget()
    {
        // 100 guesses at once from one address against the default budget of 30: every guess that gets a reservation
        // is checked (and fails, keeping it); the others are refused before any check. Each check yields while it
        // runs, as a real password check does, so the guesses overlap.
        var policy = Policy();
        var registry = Standard("myregistry");
        var checks = 0;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(async () =>
        {
            if (!(await policy.ReserveCredentialAttemptAsync(registry, AddressA, default)).Allowed) return 429;
            Interlocked.Increment(ref checks);
            await Task.Delay(10);
            return 401;
        })));

        Assert.Equal(30, checks);
        Assert.Equal(30, outcomes.Count(o => o == 401));
        Assert.Equal(70, outcomes.Count(o => o == 429));
    }

    [Fact]
    public async Task RightPasswordAfterFailures_GetsItsAttemptBack()
    {
        var policy = Policy(new ThrottlingOptions { FailedCredentialsPerAddress = new() { PerMinute = 3, Burst = 3 } });
        var registry = Standard("myregistry");
        Assert.True((await policy.ReserveCredentialAttemptAsync(registry, AddressA, default)).Allowed);
        Assert.True((await policy.ReserveCredentialAttemptAsync(registry, AddressA, default)).Allowed);

        for (var i = 0; i < 10; i++)
        {
            var reserved = await policy.ReserveCredentialAttemptAsync(registry, AddressA, default);
            Assert.True(reserved.Allowed);
            Assert.Equal(0, reserved.Remaining);
            await policy.RefundCredentialAttemptAsync(registry, AddressA, default);
        }

        // The two failures still count: one attempt is left, then none.
        Assert.True((await policy.ReserveCredentialAttemptAsync(registry, AddressA, default)).Allowed);
        Assert.False((await policy.ReserveCredentialAttemptAsync(registry, AddressA, default)).Allowed);
    }

    [Fact]
    public async Task RightPassword_WhileWrongOnesHoldTheWholeBudget_IsRefused()
    {
        // The wrong guesses are still being checked: their reservations are taken, so the right password sent after
        // them is refused, as it would be once they have failed.
        var policy = Policy(new ThrottlingOptions { FailedCredentialsPerAddress = new() { PerMinute = 5, Burst = 5 } });
        var registry = Standard("myregistry");
        for (var i = 0; i < 5; i++) Assert.True((await policy.ReserveCredentialAttemptAsync(registry, AddressA, default)).Allowed);

        var rightPassword = await policy.ReserveCredentialAttemptAsync(registry, AddressA, default);

        Assert.False(rightPassword.Allowed);
        Assert.True(rightPassword.RetryAfterSeconds >= 1);
        Assert.True((await policy.ReserveCredentialAttemptAsync(registry, AddressB, default)).Allowed);
    }

    [Fact]
    public async Task Refund_NeverFillsTheBudgetBeyondItsCapacity()
    {
        var policy = Policy(new ThrottlingOptions { FailedCredentialsPerAddress = new() { PerMinute = 3, Burst = 3 } });
        var registry = Standard("myregistry");
        await policy.ReserveCredentialAttemptAsync(registry, AddressA, default);
        for (var i = 0; i < 5; i++) await policy.RefundCredentialAttemptAsync(registry, AddressA, default);

        Assert.Equal(3, await CountAdmittedAsync(() => policy.ReserveCredentialAttemptAsync(registry, AddressA, default), 10));
    }

    [Fact]
    public async Task SignInAttempts_HaveABudgetApartFromEachRegistry()
    {
        var policy = Policy(new ThrottlingOptions { FailedCredentialsPerAddress = new() { PerMinute = 3, Burst = 3 } });
        var registry = Standard("myregistry");
        await CountAdmittedAsync(() => policy.ReserveCredentialAttemptAsync(registry, AddressA, default), 10);

        Assert.Equal(3, await CountAdmittedAsync(() => policy.ReserveSignInAttemptAsync(AddressA, default), 10));
        Assert.Equal(3, await CountAdmittedAsync(() => policy.ReserveCredentialAttemptAsync(Standard("other"), AddressA, default), 10));
    }

    [Fact]
    public async Task Disabled_AdmitsEverythingWithoutARemainingCount()
    {
        var policy = Policy(new ThrottlingOptions { Enabled = false });
        var registry = Standard("myregistry");

        var admitted = await CountAdmittedAsync(() => policy.AdmitAnonymousAsync(registry, AddressA, ThrottleCategory.Read, default), 1000);

        Assert.Equal(1000, admitted);
        Assert.Equal(ThrottlePolicy.Unlimited, (await policy.AdmitAnonymousAsync(registry, AddressA, ThrottleCategory.Read, default)).Remaining);
    }

    private ThrottlePolicy Policy(ThrottlingOptions? options = null)
    {
        var wrapped = Options.Create(options ?? new ThrottlingOptions());
        return new ThrottlePolicy(new InMemoryThrottleCounterStore(_time, wrapped), wrapped);
    }

    private static async Task<int> CountAdmittedAsync(Func<ValueTask<ThrottleDecision>> attempt, int attempts)
    {
        var admitted = 0;
        for (var i = 0; i < attempts; i++)
        {
            if ((await attempt()).Allowed) admitted++;
        }
        return admitted;
    }

    private static Registry Standard(string name) =>
        new(name, name + ".acr.localhost", RegistrySku.Standard, true, "sub", "rg", "local", DateTimeOffset.UnixEpoch, 1);

    private static RegistryPrincipal Admin(string registry) => new(registry, PrincipalKind.Admin, registry, Permissions.AnonymousPull);

    private static RegistryPrincipal Token(string registry, string name) => new(registry, PrincipalKind.Token, name, Permissions.AnonymousPull);
}
