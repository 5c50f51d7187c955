using Berth.Core.Content;
using Berth.Core.Maintenance;
using Berth.Core.Registries;
using Berth.Core.Storage;
using Berth.Oci;

namespace Berth.Core.Tests.Maintenance;

/// <summary>
/// Garbage collection carrying out a registry's lifecycle policies with the clock moved by hand: the retention policy
/// deletes untagged manifests after its days (and keeps locked, index-referenced and subject manifests), and soft-deleted
/// content is purged only after its retention, its blobs then collected in the same run. Untagged deletion by age is off,
/// so whatever goes is retention's or the purge's doing.
/// </summary>
public sealed class LifecycleCollectionTests : IDisposable
{
    private static readonly RepositoryKey App = ContentFixture.Repo("app");
    private readonly ContentFixture f = new(options => options.DeleteUntaggedManifests = false);

    public void Dispose() => f.Dispose();

    private async Task<Registry> SetPoliciesAsync(string policiesJson, DateTimeOffset? retentionEnabledSince = null)
    {
        var registry = (await f.Registries.GetOrNullAsync(ContentFixture.RegistryName, default))!;
        var since = retentionEnabledSince is { } at ? $",\"{LifecyclePolicies.RetentionEnabledSinceKey}\":\"{at.UtcDateTime:O}\"" : "";
        var updated = registry with { ArmExtrasJson = $"{{\"properties\":{{\"policies\":{policiesJson}}}{since}}}" };
        Assert.True(await f.Registries.UpdateAsync(updated, registry.Version, [], default));
        return (await f.Registries.GetOrNullAsync(ContentFixture.RegistryName, default))!;
    }

    private Task<GarbageCollectionReport> CollectAsync() => f.Collector.RunAsync(ContentFixture.RegistryName, dryRun: false, default);

    [Fact]
    public async Task Retention_DeletesAManifestUntaggedLongerThanItsDays_WithItsOwnLayer()
    {
        await SetPoliciesAsync("""{"retentionPolicy":{"days":2,"status":"enabled"}}""", f.Time.GetUtcNow());
        var old = await f.PushImageAsync(App, "v1", "config old", "layer old");
        var current = await f.PushImageAsync(App, "v1", "config new", "layer new");
        f.Time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(0, (await CollectAsync()).ManifestsRemoved);
        Assert.True(await f.ManifestExistsAsync(App, old));

        f.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        var report = await CollectAsync();
        Assert.Equal(1, report.ManifestsRemoved);
        Assert.False(await f.ManifestExistsAsync(App, old));
        Assert.True(await f.ManifestExistsAsync(App, current));
        Assert.False(await f.LinkedAsync(App, Digest.Compute("layer old"u8.ToArray())));
        Assert.False(await f.BlobBytesExistAsync(Digest.Compute("layer old"u8.ToArray())));
        Assert.True(await f.BlobBytesExistAsync(Digest.Compute("layer new"u8.ToArray())));
    }

    [Fact]
    public async Task Retention_KeepsLockedIndexReferencedAndSubjectManifests()
    {
        await SetPoliciesAsync("""{"retentionPolicy":{"days":0,"status":"enabled"}}""", f.Time.GetUtcNow());
        var locked = await f.PushImageAsync(App, "locked", "config locked", "layer locked");
        var child = await f.PushImageAsync(App, "child", "config child", "layer child");
        var childBytes = (await f.Metadata.GetManifestOrNullAsync(App, child, default))!.Content;
        await f.PushManifestAsync(App, "index", ContentFixture.Index(Descriptor.Of(childBytes)));
        var subject = await f.PushImageAsync(App, "subject", "config subject", "layer subject");
        var subjectBytes = (await f.Metadata.GetManifestOrNullAsync(App, subject, default))!.Content;
        var signatureLayer = await f.PushBlobAsync(App, "signature");
        var emptyConfig = await f.PushBlobAsync(App, "{}", "application/vnd.oci.empty.v1+json");
        await f.PushManifestAsync(App, null, ContentFixture.ImageManifest(emptyConfig, [signatureLayer], Descriptor.Of(subjectBytes), "application/vnd.example.signature"));
        Assert.True(await f.Details.SetAttributesAsync(App, AttributeTarget.Manifest, locked.ToString(), ContentAttributes.Default with { DeleteEnabled = false }, default));
        var registry = (await f.Registries.GetOrNullAsync(ContentFixture.RegistryName, default))!;
        foreach (var tag in new[] { "locked", "child", "subject" })
            await f.Manifests.DeleteAsync(registry, App, new Reference(tag, null), null, default);
        f.Time.Advance(TimeSpan.FromHours(2));

        Assert.Equal(0, (await CollectAsync()).ManifestsRemoved);
        foreach (var kept in new[] { locked, child, subject }) Assert.True(await f.ManifestExistsAsync(App, kept));
    }

    [Fact]
    public async Task Retention_LeavesManifestsUntaggedBeforeItWasEnabled()
    {
        var old = await f.PushImageAsync(App, "v1", "config old", "layer old");
        await f.PushImageAsync(App, "v1", "config new", "layer new");
        f.Time.Advance(TimeSpan.FromHours(1));
        await SetPoliciesAsync("""{"retentionPolicy":{"days":0,"status":"enabled"}}""", f.Time.GetUtcNow());
        f.Time.Advance(TimeSpan.FromDays(30));

        Assert.Equal(0, (await CollectAsync()).ManifestsRemoved);
        Assert.True(await f.ManifestExistsAsync(App, old));
    }

    [Fact]
    public async Task SoftDeleted_IsPurgedOnlyAfterItsRetention_AndThenItsBlobsGo()
    {
        var registry = await SetPoliciesAsync("""{"softDeletePolicy":{"retentionDays":3,"status":"enabled"}}""");
        var manifest = await f.PushImageAsync(App, "v1", "config soft", "layer soft");
        await f.Manifests.DeleteAsync(registry, App, new Reference(null, manifest), null, default);
        Assert.False(await f.ManifestExistsAsync(App, manifest));
        f.Time.Advance(TimeSpan.FromDays(2));

        var early = await CollectAsync();
        Assert.Equal((0, 0), (early.SoftDeletedManifestsPurged, early.BlobLinksRemoved));
        Assert.True(await f.BlobBytesExistAsync(Digest.Compute("layer soft"u8.ToArray())));
        Assert.Single(await f.Deleted.ListManifestsAsync(App, 10, 0, default));

        f.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        var late = await CollectAsync();
        Assert.Equal((1, 1), (late.SoftDeletedManifestsPurged, late.SoftDeletedTagsPurged));
        Assert.Empty(await f.Deleted.ListManifestsAsync(App, 10, 0, default));
        Assert.False(await f.BlobBytesExistAsync(Digest.Compute("layer soft"u8.ToArray())));
    }

    [Fact]
    public async Task SoftDelete_SwitchedOffLater_StillPurgesByTheRetentionInForce()
    {
        var registry = await SetPoliciesAsync("""{"softDeletePolicy":{"retentionDays":5,"status":"enabled"}}""");
        var manifest = await f.PushImageAsync(App, "v1", "config", "layer");
        await f.Manifests.DeleteAsync(registry, App, new Reference(null, manifest), null, default);
        await SetPoliciesAsync("""{"softDeletePolicy":{"retentionDays":1,"status":"disabled"}}""");
        f.Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));

        Assert.Equal(1, (await CollectAsync()).SoftDeletedManifestsPurged);
    }
}
