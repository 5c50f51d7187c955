using System.Text;
using Berth.Core.Content;
using Berth.Core.Storage;
using Berth.Oci;

namespace Berth.Testing;

/// <summary>
/// Image locking as every metadata provider must enforce it inside its delete transactions: a repository, tag or
/// manifest delete that would remove locked content deletes nothing and names what is locked, and garbage collection's
/// conditional delete leaves a locked untagged manifest. A provider's test class derives from this one and hands each
/// test fresh stores over a new, empty database. Every provider's tests share it from here, so it uses public
/// types only.
/// </summary>
public abstract class ContentLockStoreContractTests : IAsyncLifetime
{
    protected static readonly RepositoryKey Repo = new("reg1", "app");

    protected IMetadataStore Metadata { get; private set; } = null!;
    protected IRepositoryDetailsStore Details { get; private set; } = null!;

    /// <summary>The two stores over one new, empty database.</summary>
    protected abstract Task<(IMetadataStore Metadata, IRepositoryDetailsStore Details)> CreateStoresAsync();

    public async Task InitializeAsync() => (Metadata, Details) = await CreateStoresAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static readonly ContentAttributes DeleteDisabled = ContentAttributes.Default with { DeleteEnabled = false };
    private static readonly ContentAttributes WriteDisabled = ContentAttributes.Default with { WriteEnabled = false };

    /// <summary>Links a blob and stores a manifest referencing it, tagged or not; the clock of the store decides nothing here.</summary>
    private async Task<Digest> PutManifestAsync(string name, string? tag)
    {
        var blob = Digest.Compute(Encoding.UTF8.GetBytes("layer of " + name));
        await Metadata.LinkBlobAsync(Repo, blob, 10, default);
        var content = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"name":"{{name}}"}""");
        var manifest = new StoredManifest(Digest.Compute(content), "application/vnd.oci.image.manifest.v1+json", content, null, null, null,
            DateTimeOffset.UnixEpoch.AddDays(1));
        await Metadata.PutManifestAsync(Repo, new ManifestWrite(manifest, [blob], [], tag), default);
        return manifest.Digest;
    }

    private async Task AssertIntactAsync(Digest manifest, params string[] tags)
    {
        Assert.True(await Metadata.RepositoryExistsAsync(Repo, default));
        Assert.NotNull(await Metadata.GetManifestOrNullAsync(Repo, manifest, default));
        foreach (var tag in tags) Assert.Equal(manifest, await Metadata.GetTagOrNullAsync(Repo, tag, default));
    }

    private static Digest LayerOf(string name) => Digest.Compute(Encoding.UTF8.GetBytes("layer of " + name));

    /// <summary>An index over <paramref name="children"/>, tagged or not.</summary>
    private async Task<Digest> PutIndexAsync(string? tag, params Digest[] children)
    {
        var content = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"children":"{{string.Join(",", children)}}"}""");
        var index = new StoredManifest(Digest.Compute(content), "application/vnd.oci.image.index.v1+json", content, null, null, null,
            DateTimeOffset.UnixEpoch.AddDays(1));
        await Metadata.PutManifestAsync(Repo, new ManifestWrite(index, [], children, tag), default);
        return index.Digest;
    }

    [Fact]
    public async Task BlobDelete_OfALayerOfALockedManifest_DeletesNothingAndNamesIt()
    {
        var manifest = await PutManifestAsync("locked", null);
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Manifest, manifest.ToString(), DeleteDisabled, default));

        var result = await Metadata.DeleteBlobLinkAsync(Repo, LayerOf("locked"), default);

        Assert.Equal((AttributeTarget.Manifest, manifest.ToString()), (Assert.Single(result.Locked).Target, result.Locked[0].Key));
        Assert.Empty(await Metadata.FindUnlinkedBlobsAsync(Repo, [LayerOf("locked")], default));
    }

    [Fact]
    public async Task BlobDelete_OfALayerUnderALockedTagOfAnIndex_DeletesNothing()
    {
        var child = await PutManifestAsync("child", null);
        await PutIndexAsync("release", child);
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Tag, "release", WriteDisabled, default));

        var result = await Metadata.DeleteBlobLinkAsync(Repo, LayerOf("child"), default);

        Assert.Equal((AttributeTarget.Tag, "release"), (Assert.Single(result.Locked).Target, result.Locked[0].Key));
        Assert.Empty(await Metadata.FindUnlinkedBlobsAsync(Repo, [LayerOf("child")], default));
    }

    [Fact]
    public async Task BlobDelete_InALockedRepository_DeletesNothing()
    {
        await PutManifestAsync("image", null);
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Repository, "", DeleteDisabled, default));

        var result = await Metadata.DeleteBlobLinkAsync(Repo, LayerOf("image"), default);

        Assert.Equal(AttributeTarget.Repository, Assert.Single(result.Locked).Target);
    }

    [Fact]
    public async Task BlobDelete_OfALayerOfOnlyUnlockedManifests_Unlinks()
    {
        await PutManifestAsync("free", "v1");
        var locked = await PutManifestAsync("locked", "v2");
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Tag, "v2", DeleteDisabled, default));

        var result = await Metadata.DeleteBlobLinkAsync(Repo, LayerOf("free"), default);

        Assert.Equal((true, 0), (result.Found, result.Locked.Count));
        Assert.Equal([LayerOf("free")], await Metadata.FindUnlinkedBlobsAsync(Repo, [LayerOf("free")], default));
        Assert.False((await Metadata.DeleteBlobLinkAsync(Repo, LayerOf("free"), default)).Found);
        await AssertIntactAsync(locked, "v2");
    }

    [Fact]
    public async Task RepositoryDelete_WithADeleteLockedTag_DeletesNothingAndNamesTheTag()
    {
        var locked = await PutManifestAsync("locked", "release");
        var other = await PutManifestAsync("other", "dev");
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Tag, "release", DeleteDisabled, default));

        var result = await Details.DeleteRepositoryAsync(Repo, softDelete: false, null, default);

        Assert.NotNull(result);
        var only = Assert.Single(result.Locked);
        Assert.Equal((AttributeTarget.Tag, "release", false, true), (only.Target, only.Key, only.DeleteEnabled, only.WriteEnabled));
        Assert.Empty(result.Manifests);
        Assert.Empty(result.Tags);
        await AssertIntactAsync(locked, "release");
        await AssertIntactAsync(other, "dev");
        Assert.False((await Details.GetEffectiveAttributesAsync(Repo, "release", null, default)).Tag!.DeleteEnabled);
    }

    [Fact]
    public async Task RepositoryDelete_WithAWriteLockedUntaggedManifest_DeletesNothing()
    {
        var locked = await PutManifestAsync("locked", null);
        await PutManifestAsync("other", "dev");
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Manifest, locked.ToString(), WriteDisabled, default));

        var result = await Details.DeleteRepositoryAsync(Repo, softDelete: false, null, default);

        var only = Assert.Single(result!.Locked);
        Assert.Equal((AttributeTarget.Manifest, locked.ToString()), (only.Target, only.Key));
        await AssertIntactAsync(locked);
        Assert.NotNull(await Metadata.GetTagOrNullAsync(Repo, "dev", default));
    }

    [Fact]
    public async Task RepositoryDelete_OfARepositoryWithDeleteDisabled_DeletesNothing()
    {
        var manifest = await PutManifestAsync("image", "v1");
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Repository, "", DeleteDisabled, default));

        var result = await Details.DeleteRepositoryAsync(Repo, softDelete: false, null, default);

        Assert.Equal(AttributeTarget.Repository, Assert.Single(result!.Locked).Target);
        await AssertIntactAsync(manifest, "v1");
    }

    [Fact]
    public async Task RepositoryDelete_WithNothingLocked_DeletesEverything()
    {
        var manifest = await PutManifestAsync("image", "v1");
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Tag, "v1", ContentAttributes.Default with { ReadEnabled = false }, default));

        var result = await Details.DeleteRepositoryAsync(Repo, softDelete: false, null, default);

        Assert.Empty(result!.Locked);
        Assert.Equal([manifest.ToString()], result.Manifests);
        Assert.Equal(["v1"], result.Tags);
        Assert.False(await Metadata.RepositoryExistsAsync(Repo, default));
    }

    [Fact]
    public async Task ManifestDelete_WithADeleteLockedTagOnIt_DeletesNothing()
    {
        var manifest = await PutManifestAsync("image", "v1");
        await Metadata.PutManifestAsync(Repo, new ManifestWrite((await Metadata.GetManifestOrNullAsync(Repo, manifest, default))!, [], [], "stable"), default);
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Tag, "stable", DeleteDisabled, default));

        var result = await Metadata.DeleteManifestAsync(Repo, manifest, softDelete: false, null, default);

        Assert.Equal((AttributeTarget.Tag, "stable"), (Assert.Single(result.Locked).Target, result.Locked[0].Key));
        await AssertIntactAsync(manifest, "v1", "stable");
    }

    [Fact]
    public async Task ManifestDelete_OfADeleteLockedManifest_DeletesNothing()
    {
        var manifest = await PutManifestAsync("image", "v1");
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Manifest, manifest.ToString(), DeleteDisabled, default));

        var result = await Metadata.DeleteManifestAsync(Repo, manifest, softDelete: false, null, default);

        Assert.Equal(AttributeTarget.Manifest, Assert.Single(result.Locked).Target);
        await AssertIntactAsync(manifest, "v1");
    }

    [Fact]
    public async Task ManifestDelete_WithNothingLocked_DeletesItAndItsTags()
    {
        var manifest = await PutManifestAsync("image", "v1");

        var result = await Metadata.DeleteManifestAsync(Repo, manifest, softDelete: false, null, default);

        Assert.Equal((true, 0), (result.Found, result.Locked.Count));
        Assert.Null(await Metadata.GetManifestOrNullAsync(Repo, manifest, default));
        Assert.Null(await Metadata.GetTagOrNullAsync(Repo, "v1", default));
        Assert.False((await Metadata.DeleteManifestAsync(Repo, manifest, softDelete: false, null, default)).Found);
    }

    [Fact]
    public async Task TagDelete_OfAWriteLockedTag_DeletesNothing()
    {
        var manifest = await PutManifestAsync("image", "v1");
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Tag, "v1", WriteDisabled, default));

        var result = await Metadata.DeleteTagAsync(Repo, "v1", softDelete: false, null, default);

        Assert.Equal((AttributeTarget.Tag, "v1", true, false), (Assert.Single(result.Locked).Target, result.Locked[0].Key, result.Locked[0].DeleteEnabled, result.Locked[0].WriteEnabled));
        await AssertIntactAsync(manifest, "v1");
    }

    [Fact]
    public async Task TagDelete_InARepositoryWithDeleteDisabled_DeletesNothing()
    {
        var manifest = await PutManifestAsync("image", "v1");
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Repository, "", DeleteDisabled, default));

        var result = await Metadata.DeleteTagAsync(Repo, "v1", softDelete: false, null, default);

        Assert.Equal(AttributeTarget.Repository, Assert.Single(result.Locked).Target);
        await AssertIntactAsync(manifest, "v1");
    }

    [Fact]
    public async Task TagDelete_OfAnotherTagOfALockedManifest_RemovesOnlyThatTag()
    {
        var manifest = await PutManifestAsync("image", "v1");
        await Metadata.PutManifestAsync(Repo, new ManifestWrite((await Metadata.GetManifestOrNullAsync(Repo, manifest, default))!, [], [], "scratch"), default);
        Assert.True(await Details.SetAttributesAsync(Repo, AttributeTarget.Manifest, manifest.ToString(), DeleteDisabled, default));

        var result = await Metadata.DeleteTagAsync(Repo, "scratch", softDelete: false, null, default);

        Assert.Equal((true, 0), (result.Found, result.Locked.Count));
        await AssertIntactAsync(manifest, "v1");
        Assert.Null(await Metadata.GetTagOrNullAsync(Repo, "scratch", default));
    }

    [Theory]
    [InlineData(false, true, false)]
    [InlineData(true, false, false)]
    [InlineData(false, true, true)]
    public async Task CollectionDelete_LeavesALockedUntaggedManifest(bool deleteEnabled, bool writeEnabled, bool onRepository)
    {
        var manifest = await PutManifestAsync("image", null);
        var attributes = ContentAttributes.Default with { DeleteEnabled = deleteEnabled, WriteEnabled = writeEnabled };
        Assert.True(await Details.SetAttributesAsync(Repo, onRepository ? AttributeTarget.Repository : AttributeTarget.Manifest,
            onRepository ? "" : manifest.ToString(), attributes, default));

        var content = await Metadata.GetRepositoryContentAsync(Repo, default);
        var deleted = await Metadata.DeleteManifestIfUnusedAsync(Repo, manifest, DateTimeOffset.MaxValue, default);

        Assert.True(Assert.Single(content.Manifests).Locked);
        Assert.False(deleted);
        await AssertIntactAsync(manifest);
    }

    [Fact]
    public async Task CollectionDelete_RemovesAnUnlockedUntaggedManifest()
    {
        var manifest = await PutManifestAsync("image", null);

        Assert.False(Assert.Single((await Metadata.GetRepositoryContentAsync(Repo, default)).Manifests).Locked);
        Assert.True(await Metadata.DeleteManifestIfUnusedAsync(Repo, manifest, DateTimeOffset.MaxValue, default));
    }
}
