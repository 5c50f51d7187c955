using System.Text;
using Berth.Core.Content;
using Berth.Core.Storage;
using Berth.Oci;

namespace Berth.Testing;

/// <summary>A clock a test moves by hand; every store of a test reads the same one.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>
/// The content lifecycle as every metadata provider must keep it: when a manifest lost its last tag (what retention
/// counts from), the retention policy's conditional delete, and soft delete with its listings, restore and purge. A
/// provider's test class derives from this one and hands each test fresh stores over a new, empty database, all reading
/// <see cref="Clock"/>.
/// </summary>
public abstract class LifecycleStoreContractTests : IAsyncLifetime
{
    protected static readonly RepositoryKey Repo = new("reg1", "app");
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected ManualClock Clock { get; } = new(Start);
    protected IMetadataStore Metadata { get; private set; } = null!;
    protected IRepositoryDetailsStore Details { get; private set; } = null!;
    protected IDeletedContentStore Deleted { get; private set; } = null!;

    /// <summary>The stores over one new, empty database, reading <paramref name="clock"/>.</summary>
    protected abstract Task<(IMetadataStore Metadata, IRepositoryDetailsStore Details, IDeletedContentStore Deleted)> CreateStoresAsync(TimeProvider clock);

    public async Task InitializeAsync() => (Metadata, Details, Deleted) = await CreateStoresAsync(Clock);

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static Digest LayerOf(string name) => Digest.Compute(Encoding.UTF8.GetBytes("layer of " + name));

    private async Task<Digest> PutManifestAsync(string name, string? tag, Digest? subject = null, params Digest[] children)
    {
        var blob = LayerOf(name);
        await Metadata.LinkBlobAsync(Repo, blob, 10, default);
        var content = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"name":"{{name}}"}""");
        var manifest = new StoredManifest(Digest.Compute(content), children.Length > 0 ? "application/vnd.oci.image.index.v1+json" : "application/vnd.oci.image.manifest.v1+json",
            content, null, subject, null, Clock.GetUtcNow());
        await Metadata.PutManifestAsync(Repo, new ManifestWrite(manifest, children.Length > 0 ? [] : [blob], children, tag), default);
        return manifest.Digest;
    }

    private async Task<ManifestNode?> NodeAsync(Digest digest) =>
        (await Metadata.GetRepositoryContentAsync(Repo, default)).Manifests.SingleOrDefault(m => m.Digest == digest);

    [Fact]
    public async Task TagMovedAway_MarksThePreviousManifestUntaggedFromThen()
    {
        var first = await PutManifestAsync("first", "v1");
        var neverTagged = await PutManifestAsync("by-digest", null);
        Clock.Advance(TimeSpan.FromMinutes(5));
        var second = await PutManifestAsync("second", "v1");

        Assert.Equal(Clock.GetUtcNow(), (await NodeAsync(first))!.UntaggedAt);
        Assert.Null((await NodeAsync(second))!.UntaggedAt);
        Assert.Null((await NodeAsync(neverTagged))!.UntaggedAt);

        Clock.Advance(TimeSpan.FromMinutes(5));
        await PutManifestAsync("first", "v2");
        Assert.Null((await NodeAsync(first))!.UntaggedAt);
    }

    [Fact]
    public async Task TagDelete_MarksTheManifestUntaggedOnlyWhenItsLastTagGoes()
    {
        var manifest = await PutManifestAsync("app", "a");
        await PutManifestAsync("app", "b");
        Clock.Advance(TimeSpan.FromHours(1));
        Assert.True((await Metadata.DeleteTagAsync(Repo, "a", softDelete: false, null, default)).Found);
        Assert.Null((await NodeAsync(manifest))!.UntaggedAt);
        Clock.Advance(TimeSpan.FromHours(1));
        Assert.True((await Metadata.DeleteTagAsync(Repo, "b", softDelete: false, null, default)).Found);
        Assert.Equal(Clock.GetUtcNow(), (await NodeAsync(manifest))!.UntaggedAt);
    }

    [Fact]
    public async Task ExpiredUntaggedDelete_TakesOnlyManifestsUntaggedInTheWindow()
    {
        var old = await PutManifestAsync("old", "v1");
        await PutManifestAsync("new", "v1");
        var untaggedAt = Clock.GetUtcNow();

        Assert.False(await Metadata.DeleteExpiredUntaggedManifestAsync(Repo, old, Start, untaggedAt, default));
        Assert.False(await Metadata.DeleteExpiredUntaggedManifestAsync(Repo, old, untaggedAt.AddMilliseconds(1), untaggedAt.AddDays(1), default));
        Assert.True(await Metadata.DeleteExpiredUntaggedManifestAsync(Repo, old, Start, untaggedAt.AddMilliseconds(1), default));
        Assert.Null(await Metadata.GetManifestOrNullAsync(Repo, old, default));
    }

    [Fact]
    public async Task ExpiredUntaggedDelete_KeepsLockedIndexReferencedAndSubjectManifests()
    {
        var locked = await PutManifestAsync("locked", "l");
        var child = await PutManifestAsync("child", "c");
        await PutManifestAsync("index", "i", null, child);
        var subject = await PutManifestAsync("subject", "s");
        await PutManifestAsync("signature", null, subject);
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Manifest, locked.ToString(), ContentAttributes.Default with { DeleteEnabled = false }, default));
        foreach (var tag in new[] { "l", "c", "s" })
            Assert.True((await Metadata.DeleteTagAsync(Repo, tag, softDelete: false, null, default)).Found);

        var before = Clock.GetUtcNow().AddDays(1);
        foreach (var kept in new[] { locked, child, subject })
        {
            Assert.NotNull((await NodeAsync(kept))!.UntaggedAt);
            Assert.False(await Metadata.DeleteExpiredUntaggedManifestAsync(Repo, kept, Start, before, default));
            Assert.NotNull(await Metadata.GetManifestOrNullAsync(Repo, kept, default));
        }
    }

    [Fact]
    public async Task SoftDeletedManifest_IsHiddenListedWithItsTags_AndRestoredWithItsTag()
    {
        var manifest = await PutManifestAsync("app", "v1");
        Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True((await Metadata.DeleteManifestAsync(Repo, manifest, softDelete: true, null, default)).Found);

        Assert.Null(await Metadata.GetManifestOrNullAsync(Repo, manifest, default));
        Assert.Null(await Metadata.GetTagOrNullAsync(Repo, "v1", default));
        var listed = Assert.Single(await Deleted.ListManifestsAsync(Repo, 10, 0, default));
        Assert.Equal((manifest, Clock.GetUtcNow()), (listed.Digest, listed.DeletedAt));
        var tag = Assert.Single(await Deleted.ListTagsAsync(Repo, 10, 0, default));
        Assert.Equal(("v1", manifest), (tag.Tag, tag.Digest));
        // Its layer stays linked for a restore, but garbage collection does not see it.
        Assert.NotNull(await Metadata.GetLinkedBlobSizeOrNullAsync(Repo, LayerOf("app"), default));
        Assert.DoesNotContain((await Metadata.GetRepositoryContentAsync(Repo, default)).BlobLinks, l => l.Digest == LayerOf("app"));

        Assert.Equal(RestoreOutcome.Restored, await Deleted.RestoreAsync(Repo, manifest, "v1", force: false, default));
        Assert.NotNull(await Metadata.GetManifestOrNullAsync(Repo, manifest, default));
        Assert.Equal(manifest, await Metadata.GetTagOrNullAsync(Repo, "v1", default));
        Assert.Empty(await Deleted.ListManifestsAsync(Repo, 10, 0, default));
        Assert.Empty(await Deleted.ListTagsAsync(Repo, 10, 0, default));
    }

    [Fact]
    public async Task Restore_OntoATagNowInUse_NeedsForce_AndUnknownDigestsAreNotFound()
    {
        var first = await PutManifestAsync("first", "v1");
        Assert.True((await Metadata.DeleteTagAsync(Repo, "v1", softDelete: true, null, default)).Found);
        var second = await PutManifestAsync("second", "v1");

        Assert.Equal(RestoreOutcome.TagInUse, await Deleted.RestoreAsync(Repo, first, "v1", force: false, default));
        Assert.Equal(second, await Metadata.GetTagOrNullAsync(Repo, "v1", default));
        Assert.Equal(RestoreOutcome.Restored, await Deleted.RestoreAsync(Repo, first, "v1", force: true, default));
        Assert.Equal(first, await Metadata.GetTagOrNullAsync(Repo, "v1", default));
        Assert.Equal(Clock.GetUtcNow(), (await NodeAsync(second))!.UntaggedAt);

        Assert.Equal(RestoreOutcome.NotFound, await Deleted.RestoreAsync(Repo, LayerOf("nothing"), "v1", force: true, default));
    }

    [Fact]
    public async Task HardDelete_KeepsNothingToRestore()
    {
        var manifest = await PutManifestAsync("app", "v1");
        Assert.True((await Metadata.DeleteManifestAsync(Repo, manifest, softDelete: false, null, default)).Found);
        Assert.Empty(await Deleted.ListManifestsAsync(Repo, 10, 0, default));
        Assert.Empty(await Deleted.ListTagsAsync(Repo, 10, 0, default));
        Assert.Equal(RestoreOutcome.NotFound, await Deleted.RestoreAsync(Repo, manifest, "v1", force: false, default));
    }

    [Fact]
    public async Task SoftDeletedRepository_IsListed_RestoreBringsItBack_AndPurgeLaterFreesItsLinks()
    {
        var manifest = await PutManifestAsync("app", "v1");
        var other = await PutManifestAsync("other", "v2");
        var deletion = await Details.DeleteRepositoryAsync(Repo, softDelete: true, null, default);
        Assert.NotNull(deletion);
        Assert.False(await Metadata.RepositoryExistsAsync(Repo, default));
        Assert.Equal(["app"], await Deleted.ListRepositoriesAsync(Repo.Registry, 10, null, default));
        Assert.Equal(2, (await Deleted.ListManifestsAsync(Repo, 10, 0, default)).Count);

        Assert.Equal(RestoreOutcome.Restored, await Deleted.RestoreAsync(Repo, manifest, "v1", force: false, default));
        Assert.True(await Metadata.RepositoryExistsAsync(Repo, default));
        Assert.Equal(manifest, await Metadata.GetTagOrNullAsync(Repo, "v1", default));

        // The purge takes only what was deleted before its cutoff.
        Assert.Empty((await Deleted.PurgeAsync(Repo.Registry, Clock.GetUtcNow(), dryRun: false, default)).Manifests);
        Clock.Advance(TimeSpan.FromDays(2));
        var dry = await Deleted.PurgeAsync(Repo.Registry, Clock.GetUtcNow(), dryRun: true, default);
        Assert.Equal([("app", other)], dry.Manifests);
        Assert.Single(await Deleted.ListManifestsAsync(Repo, 10, 0, default));
        var purged = await Deleted.PurgeAsync(Repo.Registry, Clock.GetUtcNow(), dryRun: false, default);
        Assert.Equal(1, purged.Tags);
        Assert.Empty(await Deleted.ListManifestsAsync(Repo, 10, 0, default));
        Assert.Equal(RestoreOutcome.NotFound, await Deleted.RestoreAsync(Repo, other, "v2", force: false, default));
        // The restored manifest's layer is still linked; the purged one's link is now garbage collection's to sweep.
        Assert.NotNull(await Metadata.GetLinkedBlobSizeOrNullAsync(Repo, LayerOf("app"), default));
        Assert.Contains((await Metadata.GetRepositoryContentAsync(Repo, default)).BlobLinks, l => l.Digest == LayerOf("other"));
    }

    [Fact]
    public async Task Purge_OfAWholeDeletedRepository_RemovesItsBlobLinks()
    {
        await PutManifestAsync("app", "v1");
        Assert.NotNull(await Details.DeleteRepositoryAsync(Repo, softDelete: true, null, default));
        Clock.Advance(TimeSpan.FromDays(1));
        var purged = await Deleted.PurgeAsync(Repo.Registry, Clock.GetUtcNow(), dryRun: false, default);
        Assert.Single(purged.Manifests);
        Assert.Null(await Metadata.GetLinkedBlobSizeOrNullAsync(Repo, LayerOf("app"), default));
        Assert.Empty(await Deleted.ListRepositoriesAsync(Repo.Registry, 10, null, default));
    }

    [Fact]
    public async Task DeletedListings_PageInDeletionOrder()
    {
        var digests = new List<Digest>();
        for (var i = 0; i < 3; i++)
        {
            digests.Add(await PutManifestAsync("m" + i, "t" + i));
            Clock.Advance(TimeSpan.FromSeconds(1));
        }
        foreach (var digest in digests)
            Assert.True((await Metadata.DeleteManifestAsync(Repo, digest, softDelete: true, null, default)).Found);
        var first = await Deleted.ListManifestsAsync(Repo, 2, 0, default);
        var rest = await Deleted.ListManifestsAsync(Repo, 2, first[^1].Sequence, default);
        Assert.Equal(digests, first.Concat(rest).Select(m => m.Digest));
    }
}
