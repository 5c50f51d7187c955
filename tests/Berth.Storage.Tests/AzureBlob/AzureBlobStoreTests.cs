using System.Net;
using System.Net.Http.Headers;
using Berth.Core.Storage;

namespace Berth.Storage.Tests.AzureBlob;

/// <summary>The contract on Azurite, plus what only a shared object store has to get right: concurrent writers and signed download URLs.</summary>
public sealed class AzureBlobStoreTests(AzureBlobStoreFixture fixture) : BlobStoreContractTests<AzureBlobStoreFixture>(fixture)
{
    [Fact]
    public async Task TwoNodesAppendingAtOnce_TheLaterCommitFailsAndNoBytesAreLost()
    {
        var (first, second) = (Fixture.CreateStore(), Fixture.CreateStore());
        var id = NewUploadId();
        await first.CreateUploadAsync(id, Ct);
        var (a, b) = (RandomBytes(5000), RandomBytes(7000));

        var appendA = await first.OpenUploadForAppendOrNullAsync(id, Ct);
        var appendB = await second.OpenUploadForAppendOrNullAsync(id, Ct);
        await appendA!.WriteAsync(a, Ct);
        await appendB!.WriteAsync(b, Ct);
        await appendA.FlushAsync(Ct);
        await Assert.ThrowsAsync<UploadConflictException>(() => appendB.FlushAsync(Ct));
        appendB.SetLength(0);
        await appendA.DisposeAsync();
        await appendB.DisposeAsync();

        await using var upload = await second.OpenUploadForReadOrNullAsync(id, Ct);
        Assert.Equal(a, await ReadAllAsync(upload!));
    }

    [Fact]
    public async Task DownloadRedirect_IsAReadOnlyUrlThatHonoursRanges()
    {
        var store = Fixture.CreateStore();
        var content = RandomBytes(50_000);
        var digest = await StoreAsync(store, content);

        var location = await store.GetDownloadRedirectOrNullAsync(digest, Ct);

        Assert.NotNull(location);
        using var http = new HttpClient();
        Assert.Equal(content, await http.GetByteArrayAsync(location));
        using var ranged = new HttpRequestMessage(HttpMethod.Get, location) { Headers = { Range = new RangeHeaderValue(100, 199) } };
        using var partial = await http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(content[100..200], await partial.Content.ReadAsByteArrayAsync());
        using var write = await http.PutAsync(location, new ByteArrayContent([1, 2, 3]) { Headers = { { "x-ms-blob-type", "BlockBlob" } } });
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
    }
}
