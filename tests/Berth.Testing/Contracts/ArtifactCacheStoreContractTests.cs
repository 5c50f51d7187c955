using Berth.Core.Identity;
using Berth.Core.Identity.Credentials;
using Berth.Core.Storage;
using Microsoft.Extensions.Options;

namespace Berth.Testing;

/// <summary>
/// What every <see cref="IArtifactCacheStore"/> provider must keep: cache rules and credential sets per registry, names
/// compared case-insensitively with the spelling of the latest PUT, at most one rule per target repository (also when
/// two PUTs race), secrets stored exactly as given, and the last upstream errors. A provider's test class derives from
/// this one and hands each test fresh stores over a new, empty database (xUnit makes one instance per test).
/// A rule PUT and a credential set delete run the caller's check over the registry's rules and sets inside the write:
/// concurrent writers' checks each see what the writers before them wrote, and a refusal changes nothing. What the
/// artifact cache service's checks say (a credential set in use, the rule limit, overlapping wildcards) is tested with the server.
/// </summary>
public abstract class ArtifactCacheStoreContractTests : IAsyncLifetime
{
    private const string Registry = "reg1";
    private const string OtherRegistry = "reg2";
    // Milliseconds are what the stores keep; a time with finer ticks would not compare equal after a round trip.
    private static readonly DateTimeOffset Created = new(2026, 3, 4, 5, 6, 7, 891, TimeSpan.Zero);

    private readonly DirectoryInfo _keyFolder = Directory.CreateTempSubdirectory("berth-cache-store-keys-");

    protected IArtifactCacheStore Store { get; private set; } = null!;
    protected IMetadataStore Metadata { get; private set; } = null!;

    /// <summary>The artifact cache store and the metadata store (which deletes a registry's content) over one new, empty database.</summary>
    protected abstract Task<(IArtifactCacheStore Store, IMetadataStore Metadata)> CreateStoresAsync();

    public async Task InitializeAsync() => (Store, Metadata) = await CreateStoresAsync();

    public virtual Task DisposeAsync()
    {
        _keyFolder.Delete(recursive: true);
        return Task.CompletedTask;
    }

    private static CacheRule Rule(string name, string target, string? credentialSet = null) =>
        new(name, $"docker.io/{target}", target, credentialSet, Created);

    /// <summary>A PUT of a rule whatever the registry holds.</summary>
    private Task<bool> PutRuleAsync(string registry, CacheRule rule, CancellationToken cancellationToken) =>
        Store.PutRuleAsync(registry, _ => rule, cancellationToken);

    /// <summary>A delete of a credential set whatever the registry holds.</summary>
    private Task<bool> DeleteCredentialSetAsync(string registry, string name, CancellationToken cancellationToken) =>
        Store.DeleteCredentialSetAsync(registry, name, _ => { }, cancellationToken);

    /// <summary>What a check throws to refuse a write.</summary>
    private sealed class RefusedException(string message) : Exception(message);

    private static CredentialSet Set(string name, string? username = "protected-user", string? password = "protected-password") =>
        new(name, "docker.io", username, password, $"principal-of-{name}", Created);

    [Fact]
    public async Task Rule_RoundTripsEveryField()
    {
        var full = new CacheRule("Hub-Library", "docker.io/library/*", "library/*", "Hub-Login", Created, "401 from docker.io", Created.AddMinutes(3));
        var bare = new CacheRule("ghcr-app", "ghcr.io/org/app", "app", null, Created.AddDays(1));
        Assert.True(await PutRuleAsync(Registry, full, default));
        Assert.True(await PutRuleAsync(Registry, bare, default));

        Assert.Equal(full, await Store.GetRuleOrNullAsync(Registry, "Hub-Library", default));
        Assert.Equal(bare, await Store.GetRuleOrNullAsync(Registry, "ghcr-app", default));
        Assert.Null(await Store.GetRuleOrNullAsync(Registry, "missing", default));
        Assert.Null(await Store.GetRuleOrNullAsync(OtherRegistry, "ghcr-app", default));
    }

    [Fact]
    public async Task RuleNames_CompareIgnoringCase_AndKeepTheSpellingOfTheLatestPut()
    {
        Assert.True(await PutRuleAsync(Registry, Rule("Docker-Hub", "library/ubuntu"), default));
        Assert.Equal("Docker-Hub", (await Store.GetRuleOrNullAsync(Registry, "DOCKER-hub", default))!.Name);

        var replaced = new CacheRule("docker-HUB", "docker.io/library/debian", "library/debian", "login", Created.AddHours(1));
        Assert.True(await PutRuleAsync(Registry, replaced, default));
        Assert.Equal([replaced], await Store.ListRulesAsync(Registry, default));

        Assert.True(await Store.DeleteRuleAsync(Registry, "Docker-Hub", default));
        Assert.False(await Store.DeleteRuleAsync(Registry, "docker-hub", default));
        Assert.Null(await Store.GetRuleOrNullAsync(Registry, "docker-hub", default));
        Assert.Empty(await Store.ListRulesAsync(Registry, default));
    }

    [Fact]
    public async Task RulePut_OntoATargetAnotherRuleHas_IsRefused_AndChangesNothing()
    {
        var first = Rule("first", "library/ubuntu");
        Assert.True(await PutRuleAsync(Registry, first, default));

        Assert.False(await PutRuleAsync(Registry, Rule("second", "library/ubuntu") with { SourceRepository = "ghcr.io/x/ubuntu" }, default));
        Assert.Null(await Store.GetRuleOrNullAsync(Registry, "second", default));
        Assert.Equal([first], await Store.ListRulesAsync(Registry, default));

        // An existing rule moved onto a taken target keeps its own.
        var second = Rule("second", "library/debian");
        Assert.True(await PutRuleAsync(Registry, second, default));
        Assert.False(await PutRuleAsync(Registry, second with { TargetRepository = "library/ubuntu" }, default));
        Assert.Equal(second, await Store.GetRuleOrNullAsync(Registry, "second", default));
        // Targets compare exactly (repository names are lowercase): a wildcard or a longer name is another target.
        Assert.True(await PutRuleAsync(Registry, Rule("third", "library/ubuntu/*"), default));
        Assert.True(await PutRuleAsync(Registry, Rule("fourth", "library/ubuntu2"), default));
    }

    [Fact]
    public async Task RulePut_OfTheRuleThatHasTheTarget_Replaces_AndAMovedRuleFreesItsOldTarget()
    {
        Assert.True(await PutRuleAsync(Registry, Rule("hub", "library/ubuntu"), default));
        var sameTarget = Rule("HUB", "library/ubuntu", "login") with { LastError = "upstream timed out", LastErrorAt = Created };
        Assert.True(await PutRuleAsync(Registry, sameTarget, default));
        Assert.Equal([sameTarget], await Store.ListRulesAsync(Registry, default));

        Assert.True(await PutRuleAsync(Registry, Rule("hub", "library/debian"), default));
        Assert.True(await PutRuleAsync(Registry, Rule("other", "library/ubuntu"), default));
        Assert.Equal([("hub", "library/debian"), ("other", "library/ubuntu")],
            (await Store.ListRulesAsync(Registry, default)).Select(r => (r.Name, r.TargetRepository)));

        // A deleted rule's target is free too.
        Assert.True(await Store.DeleteRuleAsync(Registry, "hub", default));
        Assert.True(await PutRuleAsync(Registry, Rule("newer", "library/debian"), default));
    }

    [Fact]
    public async Task Rules_AreListedInNameOrderIgnoringCase()
    {
        // Byte order of the lowercased names: '-' < digits < letters, and "rule-c10" before "rule-c9".
        foreach (var name in new[] { "Zeta", "rule-c9", "alpha", "Rule-B", "rule-c10", "rule-9" })
            Assert.True(await PutRuleAsync(Registry, Rule(name, "repo-" + name.ToLowerInvariant()), default));

        Assert.Equal(["alpha", "rule-9", "Rule-B", "rule-c10", "rule-c9", "Zeta"], (await Store.ListRulesAsync(Registry, default)).Select(r => r.Name));
        Assert.Empty(await Store.ListRulesAsync(OtherRegistry, default));
    }

    [Fact]
    public async Task Registries_KeepTheirOwnRulesAndCredentialSets_UnderTheSameNamesAndTargets()
    {
        var mine = Rule("hub", "library/ubuntu", "login");
        var theirs = mine with { SourceRepository = "ghcr.io/x/ubuntu", CredentialSet = null };
        Assert.True(await PutRuleAsync(Registry, mine, default));
        Assert.True(await PutRuleAsync(OtherRegistry, theirs, default));
        var mySet = Set("login");
        var theirSet = Set("LOGIN", "their-user", "their-password") with { LoginServer = "ghcr.io" };
        await Store.PutCredentialSetAsync(Registry, mySet, default);
        await Store.PutCredentialSetAsync(OtherRegistry, theirSet, default);

        await Store.RecordRuleErrorAsync(Registry, "hub", "401 from docker.io", Created.AddMinutes(1), default);
        await Store.RecordCredentialErrorAsync(Registry, "login", "401 from docker.io", default);
        Assert.Equal([theirs], await Store.ListRulesAsync(OtherRegistry, default));
        Assert.Equal([theirSet], await Store.ListCredentialSetsAsync(OtherRegistry, default));

        Assert.True(await Store.DeleteRuleAsync(Registry, "hub", default));
        Assert.True(await DeleteCredentialSetAsync(Registry, "login", default));
        Assert.Empty(await Store.ListRulesAsync(Registry, default));
        Assert.Empty(await Store.ListCredentialSetsAsync(Registry, default));
        Assert.Equal(theirs, await Store.GetRuleOrNullAsync(OtherRegistry, "hub", default));
        Assert.Equal(theirSet, await Store.GetCredentialSetOrNullAsync(OtherRegistry, "login", default));
    }

    [Fact]
    public async Task RuleError_IsRecordedWithItsTime_ClearedByNull_AndTouchesNothingElse()
    {
        var rule = Rule("hub", "library/ubuntu", "login");
        Assert.True(await PutRuleAsync(Registry, rule, default));
        Assert.True(await PutRuleAsync(Registry, Rule("other", "library/debian"), default));

        await Store.RecordRuleErrorAsync(Registry, "HUB", "manifest unknown upstream", Created.AddMinutes(5), default);
        Assert.Equal(rule with { LastError = "manifest unknown upstream", LastErrorAt = Created.AddMinutes(5) },
            await Store.GetRuleOrNullAsync(Registry, "hub", default));
        await Store.RecordRuleErrorAsync(Registry, "hub", "503 from docker.io", Created.AddMinutes(9), default);
        var latest = (await Store.GetRuleOrNullAsync(Registry, "hub", default))!;
        Assert.Equal(("503 from docker.io", Created.AddMinutes(9)), (latest.LastError, latest.LastErrorAt));
        Assert.Null((await Store.GetRuleOrNullAsync(Registry, "other", default))!.LastError);

        // A success clears the time with the message, whatever time it carries.
        await Store.RecordRuleErrorAsync(Registry, "hub", null, Created.AddMinutes(10), default);
        Assert.Equal(rule, await Store.GetRuleOrNullAsync(Registry, "hub", default));

        // A rule deleted meanwhile is not brought back.
        await Store.RecordRuleErrorAsync(Registry, "missing", "503 from docker.io", Created, default);
        Assert.Null(await Store.GetRuleOrNullAsync(Registry, "missing", default));
        Assert.Equal(2, (await Store.ListRulesAsync(Registry, default)).Count);
    }

    [Fact]
    public async Task CredentialSet_RoundTripsEveryField_AlsoWithoutSecrets()
    {
        var full = Set("Hub-Login") with { LastError = "401 from docker.io" };
        var noSecrets = Set("empty-login", null, null) with { LoginServer = "registry.example:5000", CreatedAt = Created.AddDays(2) };
        await Store.PutCredentialSetAsync(Registry, full, default);
        await Store.PutCredentialSetAsync(Registry, noSecrets, default);

        Assert.Equal(full, await Store.GetCredentialSetOrNullAsync(Registry, "hub-login", default));
        Assert.Equal(noSecrets, await Store.GetCredentialSetOrNullAsync(Registry, "EMPTY-LOGIN", default));
        Assert.Null(await Store.GetCredentialSetOrNullAsync(Registry, "missing", default));
        Assert.Null(await Store.GetCredentialSetOrNullAsync(OtherRegistry, "hub-login", default));
    }

    [Fact]
    public async Task CredentialSetSecrets_AreKeptExactlyAsGiven_AndNeverDecoded()
    {
        var protector = new SecretProtector(Options.Create(new IdentityOptions { KeyDirectory = _keyFolder.FullName }));
        var username = protector.Protect("hub-user", "credential-set:reg1/hub-login:username");
        var password = protector.Protect("p@ss wörd", "credential-set:reg1/hub-login:password");
        await Store.PutCredentialSetAsync(Registry, Set("hub-login", username, password), default);

        var read = (await Store.GetCredentialSetOrNullAsync(Registry, "hub-login", default))!;
        Assert.Equal(username, read.ProtectedUsername, StringComparer.Ordinal);
        Assert.Equal(password, read.ProtectedPassword, StringComparer.Ordinal);
        Assert.Equal("hub-user", protector.UnprotectOrNull(read.ProtectedUsername!, "credential-set:reg1/hub-login:username"));
        Assert.Equal("p@ss wörd", protector.UnprotectOrNull(read.ProtectedPassword!, "credential-set:reg1/hub-login:password"));

        // Text that no protector produced is not the store's to check: it comes back byte for byte.
        const string opaque = "$aes256gcm$v=1$not base64 ✓ but kept: \"'\\%_";
        await Store.PutCredentialSetAsync(Registry, Set("odd-login", opaque, new string('x', 4096)), default);
        var odd = (await Store.GetCredentialSetOrNullAsync(Registry, "odd-login", default))!;
        Assert.Equal(opaque, odd.ProtectedUsername, StringComparer.Ordinal);
        Assert.Equal(new string('x', 4096), odd.ProtectedPassword, StringComparer.Ordinal);
    }

    [Fact]
    public async Task CredentialSetNames_CompareIgnoringCase_AndAPutReplacesEveryField()
    {
        await Store.PutCredentialSetAsync(Registry, Set("Hub-Login") with { LastError = "401 from docker.io" }, default);
        var replaced = new CredentialSet("HUB-login", "ghcr.io", "new-user", null, "principal-2", Created.AddHours(1));
        await Store.PutCredentialSetAsync(Registry, replaced, default);

        Assert.Equal([replaced], await Store.ListCredentialSetsAsync(Registry, default));
        Assert.True(await DeleteCredentialSetAsync(Registry, "hub-LOGIN", default));
        Assert.False(await DeleteCredentialSetAsync(Registry, "Hub-Login", default));
        Assert.Null(await Store.GetCredentialSetOrNullAsync(Registry, "hub-login", default));
    }

    [Fact]
    public async Task CredentialSets_AreListedInNameOrderIgnoringCase()
    {
        foreach (var name in new[] { "zeta-login", "Beta-Login", "alpha-2", "ALPHA-10" })
            await Store.PutCredentialSetAsync(Registry, Set(name), default);

        Assert.Equal(["ALPHA-10", "alpha-2", "Beta-Login", "zeta-login"], (await Store.ListCredentialSetsAsync(Registry, default)).Select(s => s.Name));
        Assert.Empty(await Store.ListCredentialSetsAsync(OtherRegistry, default));
    }

    [Fact]
    public async Task CredentialError_IsRecorded_ClearedByNull_AndTouchesNothingElse()
    {
        var set = Set("hub-login");
        await Store.PutCredentialSetAsync(Registry, set, default);
        await Store.PutCredentialSetAsync(Registry, Set("other-login"), default);

        // Rules name their set in the spelling they were given, which may differ from the set's.
        await Store.RecordCredentialErrorAsync(Registry, "Hub-Login", "401 Unauthorized from docker.io", default);
        Assert.Equal(set with { LastError = "401 Unauthorized from docker.io" }, await Store.GetCredentialSetOrNullAsync(Registry, "hub-login", default));
        Assert.Null((await Store.GetCredentialSetOrNullAsync(Registry, "other-login", default))!.LastError);

        await Store.RecordCredentialErrorAsync(Registry, "hub-login", null, default);
        Assert.Equal(set, await Store.GetCredentialSetOrNullAsync(Registry, "hub-login", default));

        await Store.RecordCredentialErrorAsync(Registry, "missing", "401", default);
        Assert.Null(await Store.GetCredentialSetOrNullAsync(Registry, "missing", default));
    }

    [Fact]
    public async Task CredentialSetDelete_LeavesTheRulesThatNameIt()
    {
        // The service refuses to delete a set a rule uses; the store's delete itself neither cascades nor checks.
        var rule = Rule("hub", "library/ubuntu", "hub-login");
        await Store.PutCredentialSetAsync(Registry, Set("hub-login"), default);
        Assert.True(await PutRuleAsync(Registry, rule, default));

        Assert.True(await DeleteCredentialSetAsync(Registry, "hub-login", default));
        Assert.Equal([rule], await Store.ListRulesAsync(Registry, default));
    }

    [Fact]
    public async Task RegistryContentDelete_RemovesThatRegistrysRulesAndCredentialSetsOnly()
    {
        foreach (var registry in new[] { Registry, OtherRegistry })
        {
            await Store.PutCredentialSetAsync(registry, Set("hub-login"), default);
            Assert.True(await PutRuleAsync(registry, Rule("hub", "library/ubuntu", "hub-login"), default));
        }

        await Metadata.DeleteRegistryContentAsync(Registry, default);

        Assert.Empty(await Store.ListRulesAsync(Registry, default));
        Assert.Empty(await Store.ListCredentialSetsAsync(Registry, default));
        Assert.Single(await Store.ListRulesAsync(OtherRegistry, default));
        Assert.Single(await Store.ListCredentialSetsAsync(OtherRegistry, default));
        // A registry created again under the name starts with free names and targets.
        Assert.True(await PutRuleAsync(Registry, Rule("hub", "library/ubuntu"), default));
    }

    /// <summary>
    /// Runs every writer at once, released together, and returns what each returned (or threw). Each starts on a thread
    /// of its own: on the thread pool of a small machine they would often run one after the other, and a store whose
    /// calls complete synchronously (SQLite's) would never be raced at all.
    /// </summary>
    private static async Task<T[]> RaceAsync<T>(int writers, Func<int, Task<T>> write)
    {
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, writers).Select(i => Task.Factory.StartNew(() =>
        {
            start.Wait();
            return write(i);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToArray();
        start.Set();
        return await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task ConcurrentRulePuts_OntoOneTarget_OneWins_TheOthersAreRefused()
    {
        for (var round = 0; round < 5; round++)
        {
            var target = $"race/{round}";
            var outcomes = await RaceAsync(6, i => PutRuleAsync(Registry, Rule($"rule-{round}-{i}", target), default));

            var winner = Assert.Single(Enumerable.Range(0, outcomes.Length), i => outcomes[i]);
            var stored = (await Store.ListRulesAsync(Registry, default)).Where(r => r.TargetRepository == target);
            Assert.Equal($"rule-{round}-{winner}", Assert.Single(stored).Name);
        }
    }

    [Fact]
    public async Task ConcurrentRulePuts_OfOneNewName_AllSucceed_AndLeaveOneRule()
    {
        for (var round = 0; round < 5; round++)
        {
            var name = $"rule-{round}";
            // Each writer spells the name its own way and brings its own target.
            var outcomes = await RaceAsync(6, i => PutRuleAsync(Registry, Rule(i % 2 == 0 ? name : name.ToUpperInvariant(), $"race/{round}/{i}"), default));

            Assert.All(outcomes, Assert.True);
            var stored = Assert.Single(await Store.ListRulesAsync(Registry, default), r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
            Assert.StartsWith($"race/{round}/", stored.TargetRepository);
        }
    }

    [Fact]
    public async Task ConcurrentCredentialSetPuts_OfOneNewName_AllSucceed_AndLeaveOneSet()
    {
        for (var round = 0; round < 5; round++)
        {
            var name = $"login-{round}";
            await RaceAsync(6, async i =>
            {
                await Store.PutCredentialSetAsync(Registry, Set(i % 2 == 0 ? name : name.ToUpperInvariant(), $"user-{i}", $"password-{i}"), default);
                return i;
            });

            var stored = Assert.Single(await Store.ListCredentialSetsAsync(Registry, default), s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
            // One writer's set whole, never one writer's username with another's password.
            Assert.Equal(stored.ProtectedUsername!.Replace("user-", ""), stored.ProtectedPassword!.Replace("password-", ""));
        }
    }

    [Fact]
    public async Task RulePut_DecidesOverTheRegistrysCurrentState_AndARefusalChangesNothing()
    {
        var rule = Rule("hub", "library/ubuntu", "hub-login");
        await Store.PutCredentialSetAsync(Registry, Set("hub-login"), default);
        Assert.True(await PutRuleAsync(Registry, rule, default));
        Assert.True(await PutRuleAsync(OtherRegistry, Rule("theirs", "library/debian"), default));

        ArtifactCacheState? seen = null;
        var refused = await Assert.ThrowsAsync<RefusedException>(() => Store.PutRuleAsync(Registry, state =>
        {
            seen = state;
            throw new RefusedException("no");
        }, default));
        Assert.Equal("no", refused.Message);
        Assert.Equal([rule], seen!.Rules);
        Assert.Equal([Set("hub-login")], seen.CredentialSets);
        Assert.Equal([rule], await Store.ListRulesAsync(Registry, default));

        // The rule written is the one the decision returns, which may build on the stored one.
        Assert.True(await Store.PutRuleAsync(Registry, state => state.Rules.Single() with { CredentialSet = null }, default));
        Assert.Equal([rule with { CredentialSet = null }], await Store.ListRulesAsync(Registry, default));
    }

    [Fact]
    public async Task CredentialSetDelete_ChecksTheRegistrysCurrentState_AndARefusalChangesNothing()
    {
        var rule = Rule("hub", "library/ubuntu", "hub-login");
        await Store.PutCredentialSetAsync(Registry, Set("hub-login"), default);
        Assert.True(await PutRuleAsync(Registry, rule, default));

        ArtifactCacheState? seen = null;
        await Assert.ThrowsAsync<RefusedException>(() => Store.DeleteCredentialSetAsync(Registry, "hub-login", state =>
        {
            seen = state;
            throw new RefusedException("in use");
        }, default));
        Assert.Equal([rule], seen!.Rules);
        Assert.Equal([Set("hub-login")], seen.CredentialSets);
        Assert.Equal([Set("hub-login")], await Store.ListCredentialSetsAsync(Registry, default));
    }

    /// <summary>
    /// Spends a moment inside a racing write's check, after its reads: the other writers then surely reach the store
    /// meanwhile, and wait for the lock (or, were the state read outside it, read what this write is about to change).
    /// </summary>
    private static void HoldTheWrite() => Thread.Sleep(20);

    /// <summary>A PUT whose check refuses when <paramref name="refuse"/> says so; false when refused.</summary>
    private async Task<bool> PutRuleCheckedAsync(CacheRule rule, Func<ArtifactCacheState, bool> refuse)
    {
        try
        {
            return await Store.PutRuleAsync(Registry, state =>
            {
                HoldTheWrite();
                return refuse(state) ? throw new RefusedException("refused") : rule;
            }, default);
        }
        catch (RefusedException)
        {
            return false;
        }
    }

    [Fact]
    public async Task ConcurrentRulePuts_OfPairwiseOverlappingWildcards_LeaveExactlyOne()
    {
        for (var round = 0; round < 5; round++)
        {
            // round-0/*, round-0/a/*, round-0/a/a/* ...: each one's prefix contains or is contained in every other's.
            var prefix = $"round-{round}/";
            var outcomes = await RaceAsync(6, i =>
            {
                var target = prefix + string.Concat(Enumerable.Repeat("a/", i)) + "*";
                return PutRuleCheckedAsync(Rule($"rule-{round}-{i}", target),
                    state => state.Rules.Any(r => r.TargetRepository.StartsWith(prefix, StringComparison.Ordinal)));
            });

            var winner = Assert.Single(Enumerable.Range(0, outcomes.Length), i => outcomes[i]);
            var stored = (await Store.ListRulesAsync(Registry, default)).Where(r => r.TargetRepository.StartsWith(prefix, StringComparison.Ordinal));
            Assert.Equal($"rule-{round}-{winner}", Assert.Single(stored).Name);
        }
    }

    [Fact]
    public async Task ConcurrentRulePuts_UnderALimit_StopAtTheLimit()
    {
        for (var round = 0; round < 5; round++)
        {
            // Each round raises the limit by two and races six new rules for the two free places.
            var limit = 2 * (round + 1);
            var outcomes = await RaceAsync(6, i => PutRuleCheckedAsync(Rule($"rule-{round}-{i}", $"limit/{round}/{i}"), state => state.Rules.Count >= limit));

            Assert.Equal(2, outcomes.Count(won => won));
            Assert.Equal(limit, (await Store.ListRulesAsync(Registry, default)).Count);
        }
    }

    [Fact]
    public async Task ConcurrentRulePutNamingASet_AndDeleteOfThatSet_NeverBothSucceed()
    {
        for (var round = 0; round < 5; round++)
        {
            // Three sets a round, each raced by a rule that names it (refused without the set) and by its delete
            // (refused while a rule names it).
            var sets = Enumerable.Range(0, 3).Select(k => $"login-{round}-{k}").ToArray();
            foreach (var set in sets) await Store.PutCredentialSetAsync(Registry, Set(set), default);

            var outcomes = await RaceAsync(6, async i =>
            {
                var set = sets[i / 2];
                if (i % 2 == 0)
                    return await PutRuleCheckedAsync(Rule($"rule-{set}", $"users/{set}", set),
                        state => !state.CredentialSets.Any(s => string.Equals(s.Name, set, StringComparison.OrdinalIgnoreCase)));
                try
                {
                    return await Store.DeleteCredentialSetAsync(Registry, set, state =>
                    {
                        HoldTheWrite();
                        if (state.Rules.Any(r => string.Equals(r.CredentialSet, set, StringComparison.OrdinalIgnoreCase))) throw new RefusedException("in use");
                    }, default);
                }
                catch (RefusedException)
                {
                    return false;
                }
            });

            var rules = await Store.ListRulesAsync(Registry, default);
            var stored = await Store.ListCredentialSetsAsync(Registry, default);
            for (var k = 0; k < sets.Length; k++)
            {
                var (ruleWon, deleteWon) = (outcomes[2 * k], outcomes[2 * k + 1]);
                Assert.True(ruleWon != deleteWon, $"{sets[k]}: the rule PUT returned {ruleWon}, the delete {deleteWon}");
                Assert.Equal(ruleWon, rules.Any(r => r.CredentialSet == sets[k]));
                Assert.Equal(ruleWon, stored.Any(s => s.Name == sets[k]));
            }
        }
    }
}
