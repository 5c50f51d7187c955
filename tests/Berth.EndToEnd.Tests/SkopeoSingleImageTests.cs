using System.Security.Cryptography;
using Berth.EndToEnd.Tests.Infrastructure;

namespace Berth.EndToEnd.Tests;

/// <summary>skopeo round-trips a single-platform image, built by umoci, through Berth without changing a byte.</summary>
public sealed class SkopeoSingleImageTests(BerthServer server) : IClassFixture<BerthServer>, IDisposable
{
    private readonly ContainerTools _tools = new(server);
    private readonly TempDirectory _work = new("single");

    [Fact]
    public async Task SkopeoCopy_UmociImageIntoBerthAndBack_EveryBlobAndTheManifestDigestAreUnchanged()
    {
        var input = _work.Combine("input");
        var output = _work.Combine("output");
        var payload = _work.Combine("payload.bin");
        await File.WriteAllBytesAsync(payload, RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17));

        var pushedDigest = await UmociImage.CreateAsync(input, "v1", payload);

        var destination = _tools.RegistryReference("e2e/single", "v1");
        (await _tools.SkopeoCopyAsync($"oci:{input}:v1", destination)).EnsureSuccess();
        (await _tools.SkopeoCopyAsync(destination, $"oci:{output}:v1")).EnsureSuccess();

        Assert.Equal(pushedDigest, OciLayout.FindReference(output, "v1")["digest"]!.GetValue<string>());
        OciLayout.AssertSameBlobs(input, output);
    }

    public void Dispose()
    {
        _tools.Dispose();
        _work.Dispose();
    }
}
