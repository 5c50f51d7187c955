using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Berth.Azure.Tests.Infrastructure;
using Berth.Testing;
using Xunit.Abstractions;

namespace Berth.Azure.Tests;

/// <summary>
/// The unmodified <c>az acr import</c> (azure-cli 2.45) against Berth over HTTPS: from CNCF distribution with Basic
/// auth, from another Berth through the bearer-token flow, and from a second registry on the same server (mounted);
/// tags, digests, NoForce and Force, indexes copied whole and referrers, compared byte for byte on the data plane;
/// refused credentials and refused destinations end in a clear error with nothing sent.
/// </summary>
public sealed class ImportTests(ImportFixture fixture, ITestOutputHelper output) : IClassFixture<ImportFixture>
{
    private HttpsBerthServer Server => fixture.Server;

    [Fact]
    public async Task Import_from_distribution_with_basic_auth_copies_tags_digests_and_whole_indexes_and_honours_force()
    {
        using var az = await SignInAsync();
        try
        {
            var distribution = fixture.Distribution;
            string[] credentials = ["-u", distribution.Username!, "-p", distribution.Password!];

            // By tag, no -t: az targets the source's repository and tag. The index arrives with both platforms.
            await az.OkAsync(["acr", "import", "-n", "myregistry", "--source", $"{distribution.Address}/{ImportFixture.MultiRepository}:v1", .. credentials]);
            await AssertImportedAsync(ImportFixture.MultiRepository, "v1", fixture.DistributionImage, withReferrer: false);
            await Server.WaitForOutputAsync($"into myregistry succeeded: {fixture.DistributionImage.IndexDigest}, 4 blobs copied, 0 mounted");
            var pulled = await SkopeoPullAllAsync($"{ImportFixture.MultiRepository}:v1");
            foreach (var (digest, bytes) in fixture.DistributionImage.Manifests.Where(m => m.Key != fixture.DistributionImage.ReferrerDigest)
                         .Concat(fixture.DistributionImage.Blobs.Take(4)))
                Assert.Equal(bytes, pulled[digest]);

            // By digest, to a tag of another repository.
            await az.OkAsync(["acr", "import", "-n", "myregistry", "--source", $"{distribution.Address}/{ImportFixture.SingleRepository}@{fixture.SingleV1.ManifestDigest}",
                "-t", "imported/single:one", .. credentials]);
            Assert.Equal(fixture.SingleV1.ManifestDigest, await TagDigestAsync("imported/single", "one"));
            await AssertBlobAsync("imported/single", fixture.SingleV1.LayerDigest, fixture.SingleV1.Layer);

            // NoForce: the tag holds other content, so nothing moves. Importing the same content again is fine.
            var conflict = await az.RunAsync(["acr", "import", "-n", "myregistry", "--source", $"{distribution.Address}/{ImportFixture.SingleRepository}:v2",
                "-t", "imported/single:one", .. credentials]);
            Assert.True(conflict.ExitCode != 0, conflict.Describe());
            Assert.Contains("Tag imported/single:one already exists in target registry", conflict.Output);
            Assert.Equal(fixture.SingleV1.ManifestDigest, await TagDigestAsync("imported/single", "one"));
            await az.OkAsync(["acr", "import", "-n", "myregistry", "--source", $"{distribution.Address}/{ImportFixture.SingleRepository}:v1",
                "-t", "imported/single:one", .. credentials]);

            // Force moves it.
            await az.OkAsync(["acr", "import", "-n", "myregistry", "--source", $"{distribution.Address}/{ImportFixture.SingleRepository}:v2",
                "-t", "imported/single:one", "--force", .. credentials]);
            Assert.Equal(fixture.SingleV2.ManifestDigest, await TagDigestAsync("imported/single", "one"));
            await AssertBlobAsync("imported/single", fixture.SingleV2.LayerDigest, fixture.SingleV2.Layer);

            // Wrong credentials: a clear error naming the source, and no repository appears.
            var refused = await az.RunAsync(["acr", "import", "-n", "myregistry", "--source", $"{distribution.Address}/{ImportFixture.SingleRepository}:v1",
                "-t", "refused/single:v1", "-u", distribution.Username!, "-p", "wrong-password"]);
            Assert.True(refused.ExitCode != 0, refused.Describe());
            Assert.Contains($"the source registry {distribution.Address} refused the credentials of user '{distribution.Username}'", refused.Output);
            Assert.Equal(HttpStatusCode.NotFound, await ManifestStatusAsync("refused/single", "v1"));
            Assert.DoesNotContain(distribution.Password!, Server.Output);

            // A source that fails half-way (the arm64 layer is gone): the error names it, and what was already copied
            // (the amd64 manifest and blobs, the arm64 config) is removed again.
            var broken = fixture.BrokenImage;
            var halfway = await az.RunAsync(["acr", "import", "-n", "myregistry", "--source", $"{distribution.Address}/broken/app:v1", .. credentials]);
            Assert.True(halfway.ExitCode != 0, halfway.Describe());
            Assert.Contains($"(NotFound) the source registry {distribution.Address} has no blob {broken.Arm64.LayerDigest} in broken/app", halfway.Output);
            Assert.Equal(HttpStatusCode.NotFound, await ManifestStatusAsync("broken/app", "v1"));
            Assert.Equal(HttpStatusCode.NotFound, await ManifestStatusAsync("broken/app", broken.Amd64.ManifestDigest));
            foreach (var blob in new[] { broken.Amd64.LayerDigest, broken.Amd64.ConfigDigest, broken.Arm64.ConfigDigest })
                Assert.Equal(HttpStatusCode.NotFound, await BlobStatusAsync("broken/app", blob));
            AssertStayedOnLoopback();
        }
        finally
        {
            Report(az);
        }
    }

    [Fact]
    public async Task Import_from_another_berth_uses_the_token_flow_and_copies_referrers()
    {
        using var az = await SignInAsync();
        try
        {
            var source = fixture.BerthSource;
            var (username, password) = (source.Credentials!.Split(':', 2)[0], source.Credentials.Split(':', 2)[1]);
            await az.OkAsync("acr", "import", "-n", "myregistry", "--source", $"{source.Address}/{ImportFixture.MultiRepository}:v1",
                "-t", "remote/app:v1", "-u", username, "-p", password);
            await AssertImportedAsync("remote/app", "v1", fixture.BerthSourceImage, withReferrer: true);
            AssertStayedOnLoopback();
        }
        finally
        {
            Report(az);
        }
    }

    [Fact]
    public async Task Import_from_a_registry_on_the_same_server_mounts_blobs_instead_of_copying()
    {
        using var az = await SignInAsync();
        try
        {
            // The login server form: az finds the registry in the subscription and sends its resource id.
            await az.OkAsync("acr", "import", "-n", "myregistry", "--source", $"{fixture.LocalSourceLoginServer}/{ImportFixture.MultiRepository}:v1",
                "-t", "local/app:v1");
            await AssertImportedAsync("local/app", "v1", fixture.LocalSourceImage, withReferrer: true);
            // Mounted: the server's own account of the import (blobs are stored once per server, so the store alone
            // could not tell a mount from a copy whose bytes were already there).
            await Server.WaitForOutputAsync($"into myregistry succeeded: {fixture.LocalSourceImage.IndexDigest}, 0 blobs copied, 6 mounted");

            // -r with the registry's name, --no-wait: az returns at once and the import finishes in the background.
            await az.OkAsync("acr", "import", "-n", "myregistry", "-r", ImportFixture.LocalSource, "--source", $"{ImportFixture.MultiRepository}:v1",
                "-t", "mounted/app:v2", "--no-wait");
            for (var attempt = 0; attempt < 100 && await ManifestStatusAsync("mounted/app", "v2") != HttpStatusCode.OK; attempt++) await Task.Delay(100);
            await AssertImportedAsync("mounted/app", "v2", fixture.LocalSourceImage, withReferrer: true);

            // --repository: the manifests without a tag.
            await az.OkAsync("acr", "import", "-n", "myregistry", "-r", ImportFixture.LocalSource, "--source", $"{ImportFixture.MultiRepository}:v1",
                "--repository", "untagged/app");
            Assert.Equal(HttpStatusCode.OK, await ManifestStatusAsync("untagged/app", fixture.LocalSourceImage.IndexDigest));
            using (var admin = Server.CreateAdminClient())
            {
                using var tags = JsonDocument.Parse(await admin.GetStringAsync("/v2/untagged/app/tags/list"));
                Assert.Equal(0, tags.RootElement.TryGetProperty("tags", out var list) && list.ValueKind == JsonValueKind.Array ? list.GetArrayLength() : 0);
            }
            AssertStayedOnLoopback();
        }
        finally
        {
            Report(az);
        }
    }

    [Fact]
    public async Task Import_refuses_unlisted_loopback_private_and_plain_http_sources_without_sending_anything()
    {
        using var az = await SignInAsync();
        // A loopback port the server is not allowed to reach, with a listener that records any connection.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        try
        {
            var loopback = await az.RunAsync("acr", "import", "-n", "myregistry", "--source", $"127.0.0.1:{port}/library/app:v1", "-u", "someone", "-p", "secret");
            Assert.True(loopback.ExitCode != 0, loopback.Describe());
            Assert.Contains("(SourceNotAllowed)", loopback.Output);
            Assert.Contains($"list \"127.0.0.1:{port}\" in Berth:Import:AllowedSources", loopback.Output);
            Assert.False(listener.Pending(), "the server connected to a refused loopback source");

            var privateNetwork = await az.RunAsync("acr", "import", "-n", "myregistry", "--source", "10.255.255.1:5000/library/app:v1", "-u", "someone", "-p", "secret");
            Assert.True(privateNetwork.ExitCode != 0, privateNetwork.Describe());
            Assert.Contains("10.255.255.1:5000 is a private address: Berth refuses loopback, private and link-local destinations", privateNetwork.Output);

            // Allowed as a source, but it speaks plain HTTP and is not listed for that: HTTPS fails, and the error says why.
            var plain = await az.RunAsync("acr", "import", "-n", "myregistry", "--source", $"{fixture.PlainDistribution.Address}/{ImportFixture.SingleRepository}:v1");
            Assert.True(plain.ExitCode != 0, plain.Describe());
            Assert.Contains("Berth:ArtifactCache:AllowHttpUpstreams", plain.Output);
            Assert.Equal(HttpStatusCode.NotFound, await ManifestStatusAsync(ImportFixture.SingleRepository, "v1"));
            Assert.False(listener.Pending(), "the server connected to a refused loopback source");
            AssertStayedOnLoopback();
        }
        finally
        {
            listener.Stop();
            Report(az);
        }
    }

    private async Task<AzureCli> SignInAsync()
    {
        var az = new AzureCli(Server, fixture.Proxy);
        var setup = await az.RunScriptAsync(AzureFixture.SetupScriptFor(Server, managedIdentity: false));
        Assert.True(setup.ExitCode == 0, setup.Describe());
        return az;
    }

    /// <summary>The tag points at the index, and every manifest and blob (and the referrer, when expected) is byte-identical.</summary>
    private async Task AssertImportedAsync(string repository, string tag, MultiPlatformImage image, bool withReferrer)
    {
        Assert.Equal(image.IndexDigest, await TagDigestAsync(repository, tag));
        using var admin = Server.CreateAdminClient();
        foreach (var (digest, bytes) in image.Manifests)
        {
            if (digest == image.ReferrerDigest && !withReferrer) continue;
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{digest}");
            request.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json");
            using var response = await admin.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"manifest {digest} of {repository}: {(int)response.StatusCode}");
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        }
        foreach (var (digest, bytes) in image.Blobs.Take(withReferrer ? int.MaxValue : 4))
            await AssertBlobAsync(repository, digest, bytes);

        using var referrers = JsonDocument.Parse(await admin.GetStringAsync($"/v2/{repository}/referrers/{image.IndexDigest}"));
        var listed = referrers.RootElement.GetProperty("manifests").EnumerateArray().Select(m => m.GetProperty("digest").GetString()).ToList();
        if (withReferrer) Assert.Equal([image.ReferrerDigest], listed);
        else Assert.Empty(listed);
    }

    private async Task AssertBlobAsync(string repository, string digest, byte[] expected)
    {
        using var admin = Server.CreateAdminClient();
        using var response = await admin.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"blob {digest} of {repository}: {(int)response.StatusCode}");
        Assert.Equal(expected, await response.Content.ReadAsByteArrayAsync());
    }

    private async Task<string?> TagDigestAsync(string repository, string tag)
    {
        using var admin = Server.CreateAdminClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/manifests/{tag}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json");
        using var response = await admin.SendAsync(request);
        return response.StatusCode == HttpStatusCode.OK ? RegistryHttp.Header(response, "Docker-Content-Digest") : null;
    }

    private async Task<HttpStatusCode> BlobStatusAsync(string repository, string digest)
    {
        using var admin = Server.CreateAdminClient();
        using var response = await admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/blobs/{digest}"));
        return response.StatusCode;
    }

    private async Task<HttpStatusCode> ManifestStatusAsync(string repository, string reference)
    {
        using var admin = Server.CreateAdminClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json");
        using var response = await admin.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>skopeo copy --all into an OCI layout; every file under blobs/ by digest.</summary>
    private async Task<Dictionary<string, byte[]>> SkopeoPullAllAsync(string reference)
    {
        var certs = Path.Combine(Path.GetTempPath(), "berth-import-certs-" + Guid.NewGuid().ToString("N")[..12]);
        var destination = Path.Combine(Path.GetTempPath(), "berth-import-pull-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            Directory.CreateDirectory(certs);
            File.Copy(Server.CaCertificatePath, Path.Combine(certs, "ca.crt"));
            var result = await ExternalTool.RunAsync("skopeo",
                ["copy", "--all", "--src-cert-dir", certs, "--src-creds", $"{Server.AdminUsername}:{Server.AdminPassword}", $"docker://{Server.LoginServer}/{reference}", $"oci:{destination}:pulled"],
                new Dictionary<string, string> { ["NO_PROXY"] = "*", ["HTTPS_PROXY"] = "", ["HTTP_PROXY"] = "" }, [Server.AdminPassword], TimeSpan.FromMinutes(2));
            Assert.True(result.ExitCode == 0, result.Describe());
            return Directory.EnumerateFiles(Path.Combine(destination, "blobs", "sha256"))
                .ToDictionary(file => "sha256:" + Path.GetFileName(file), File.ReadAllBytes);
        }
        finally
        {
            try { Directory.Delete(destination, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            try { Directory.Delete(certs, recursive: true); } catch (IOException) { }
        }
    }

    private void AssertStayedOnLoopback() =>
        Assert.True(fixture.Proxy.NonLoopbackRequests.IsEmpty, "az tried to leave loopback: " + string.Join("; ", fixture.Proxy.NonLoopbackRequests));

    private void Report(AzureCli az)
    {
        foreach (var entry in az.Transcript)
            output.WriteLine(entry.Length > 4000 ? entry[..4000] + "…" : entry);
        output.WriteLine("--- server ---\n" + (Server.Output.Length > 8000 ? Server.Output[^8000..] : Server.Output));
    }
}
