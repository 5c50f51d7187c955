using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.Azure.Tests.Infrastructure;
using Berth.Testing;
using Xunit.Abstractions;

namespace Berth.Azure.Tests;

/// <summary>
/// The content lifecycle through the unmodified Azure CLI 2.45: the manifest commands, the retention policy for untagged
/// manifests (with the collector run through <c>az rest</c>) and soft delete with restore, each effect checked on the
/// data plane.
/// </summary>
public sealed class AzureLifecycleTests(AzureFixture fixture, ITestOutputHelper output) : IClassFixture<AzureFixture>
{
    private HttpsBerthServer Server => fixture.Server;

    [Fact]
    public async Task Manifest_commands_retention_and_soft_delete_work_unchanged()
    {
        using var az = new AzureCli(Server, fixture.Proxy);
        try
        {
            var setup = await az.RunScriptAsync(fixture.SetupScript(managedIdentity: false));
            Assert.True(setup.ExitCode == 0, setup.Describe());
            await ManifestCommandsAsync(az);
            await RetentionAsync(az);
            await SoftDeleteAsync(az);
            Assert.True(fixture.Proxy.NonLoopbackRequests.IsEmpty, "az tried to leave loopback: " + string.Join("; ", fixture.Proxy.NonLoopbackRequests));
        }
        finally
        {
            foreach (var entry in az.Transcript)
                output.WriteLine(entry.Length > 4000 ? entry[..4000] + "…" : entry);
        }
    }

    private async Task ManifestCommandsAsync(AzureCli az)
    {
        var repository = AzureFixture.Repository;
        var digest = fixture.Image.ManifestDigest;

        using (var metadata = JsonDocument.Parse(await az.OkAsync("acr", "manifest", "list-metadata", "-r", "myregistry", "-n", repository, "-o", "json")))
        {
            var entry = metadata.RootElement.EnumerateArray().Single(m => m.GetProperty("digest").GetString() == digest);
            Assert.Equal("1", entry.GetProperty("tags")[0].GetString());
        }
        Assert.Equal(digest, await az.OkAsync("acr", "manifest", "show-metadata", "-r", "myregistry", "-n", $"{repository}:1", "--query", "digest", "-o", "tsv"));
        Assert.Equal(digest, await az.OkAsync("acr", "manifest", "show-metadata", "-r", "myregistry", "-n", $"{repository}@{digest}", "--query", "digest", "-o", "tsv"));

        // update-metadata locks the manifest against deletion; the data plane then refuses the delete.
        Assert.Equal("false", await az.OkAsync("acr", "manifest", "update-metadata", "-r", "myregistry", "-n", $"{repository}@{digest}", "--delete-enabled", "false",
            "--query", "changeableAttributes.deleteEnabled", "-o", "tsv"));
        using (var admin = Server.CreateAdminClient())
        using (var refused = await admin.DeleteAsync($"/v2/{repository}/manifests/{digest}"))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        await az.OkAsync("acr", "manifest", "update-metadata", "-r", "myregistry", "-n", $"{repository}@{digest}", "--delete-enabled", "true", "-o", "none");

        // show (and --raw, byte for byte) and list read the manifests through /v2.
        Assert.Equal(fixture.Image.ConfigDigest, await az.OkAsync("acr", "manifest", "show", "-r", "myregistry", "-n", $"{repository}:1", "--query", "config.digest", "-o", "tsv"));
        var raw = await az.RunAsync("acr", "manifest", "show", "-r", "myregistry", "-n", $"{repository}:1", "--raw");
        Assert.True(raw.ExitCode == 0, raw.Describe());
        // az prints the text unformatted; the shell-friendly newline after it is its own.
        Assert.Equal(Encoding.UTF8.GetString(fixture.Image.Manifest), raw.StandardOutput.TrimEnd('\n'));
        Assert.Contains(fixture.Image.ConfigDigest, await az.OkAsync("acr", "manifest", "list", "-r", "myregistry", "-n", repository, "--query", "[].config.digest", "-o", "tsv"));

        // list-referrers: a signature-like artifact whose subject is the image.
        string referrer;
        using (var admin = Server.CreateAdminClient())
            referrer = await PushReferrerAsync(admin, repository, digest, fixture.Image.Manifest.Length);
        using (var referrers = JsonDocument.Parse(await az.OkAsync("acr", "manifest", "list-referrers", "-r", "myregistry", "-n", $"{repository}:1", "-o", "json")))
        {
            var found = referrers.RootElement.GetProperty("manifests").EnumerateArray().Single();
            Assert.Equal(referrer, found.GetProperty("digest").GetString());
            Assert.Equal(SignatureType, found.GetProperty("artifactType").GetString());
        }
    }

    private async Task RetentionAsync(AzureCli az)
    {
        // Retention is a Premium feature, checked by az itself and by Berth.
        await az.OkAsync("acr", "update", "-n", "myregistry", "--sku", "Premium", "-o", "none");
        Assert.Equal("enabled", await az.OkAsync("acr", "config", "retention", "update", "-r", "myregistry", "--status", "enabled", "--days", "0",
            "--type", "UntaggedManifests", "--query", "status", "-o", "tsv"));
        Assert.Equal("0", await az.OkAsync("acr", "config", "retention", "show", "-r", "myregistry", "--query", "days", "-o", "tsv"));

        // Moving tag v1 leaves the first manifest untagged; a locked one moved off its tag stays.
        var image = new TestImage();
        var moved = image.VariantManifest("moved");
        var locked = image.VariantManifest("locked");
        using (var admin = Server.CreateAdminClient())
        {
            await admin.PushImageAsync("samples/retained", image, "v1");
            await admin.PushManifestAsync("samples/retained", "l1", locked);
        }
        await az.OkAsync("acr", "manifest", "update-metadata", "-r", "myregistry", "-n", $"samples/retained@{TestImage.DigestOf(locked)}",
            "--delete-enabled", "false", "-o", "none");
        using (var admin = Server.CreateAdminClient())
        {
            await admin.PushManifestAsync("samples/retained", "v1", moved);
            await admin.PushManifestAsync("samples/retained", "l1", moved);
        }

        await CollectGarbageAsync(az);
        using (var admin = Server.CreateAdminClient())
        {
            using (var gone = await admin.GetAsync($"/v2/samples/retained/manifests/{image.ManifestDigest}"))
                Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            using (var kept = await admin.GetAsync($"/v2/samples/retained/manifests/{TestImage.DigestOf(locked)}"))
                Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        }
        var pull = await fixture.SkopeoPullAsync("samples/retained:v1", $"{Server.AdminUsername}:{Server.AdminPassword}");
        Assert.True(pull.ExitCode == 0, pull.Describe());

        // ACR does not allow soft delete beside retention.
        var conflict = await az.RunAsync("acr", "config", "soft-delete", "update", "-r", "myregistry", "--status", "enabled", "--yes");
        Assert.True(conflict.ExitCode != 0, conflict.Describe());
        Assert.Contains("cannot both be enabled", conflict.StandardError);
        Assert.Equal("disabled", await az.OkAsync("acr", "config", "retention", "update", "-r", "myregistry", "--status", "disabled",
            "--type", "UntaggedManifests", "--query", "status", "-o", "tsv"));
    }

    private async Task SoftDeleteAsync(AzureCli az)
    {
        Assert.Equal("enabled", await az.OkAsync("acr", "config", "soft-delete", "update", "-r", "myregistry", "--status", "enabled", "--days", "3", "--yes",
            "--query", "status", "-o", "tsv"));
        Assert.Equal("3", await az.OkAsync("acr", "config", "soft-delete", "show", "-r", "myregistry", "--query", "retentionDays", "-o", "tsv"));

        var image = new TestImage();
        var credentials = $"{Server.AdminUsername}:{Server.AdminPassword}";
        using (var admin = Server.CreateAdminClient())
            await admin.PushImageAsync("samples/soft", image, "v1");

        // A deleted tag is invisible to pulls, listed as deleted, and restored.
        await az.OkAsync("acr", "repository", "untag", "-n", "myregistry", "--image", "samples/soft:v1");
        Assert.True((await fixture.SkopeoPullAsync("samples/soft:v1", credentials)).ExitCode != 0, "a soft-deleted tag still pulls");
        using (var tags = JsonDocument.Parse(await az.OkAsync("acr", "manifest", "list-deleted-tags", "-r", "myregistry", "-n", "samples/soft:v1", "-o", "json")))
        {
            var tag = tags.RootElement.EnumerateArray().Single();
            Assert.Equal(image.ManifestDigest, tag.GetProperty("digest").GetString());
            Assert.True(tag.TryGetProperty("expiresAfter", out _));
        }
        Assert.Equal(image.ManifestDigest, await az.OkAsync("acr", "manifest", "restore", "-r", "myregistry", "-n", "samples/soft:v1", "--yes", "--query", "digest", "-o", "tsv"));
        var restored = await fixture.SkopeoPullAsync("samples/soft:v1", credentials);
        Assert.True(restored.ExitCode == 0, restored.Describe());

        // A deleted manifest is listed with its repository; restoring it onto a tag now in use needs --force.
        await az.OkAsync("acr", "manifest", "delete", "-r", "myregistry", "-n", "samples/soft:v1", "--yes");
        using (var admin = Server.CreateAdminClient())
        using (var missing = await admin.GetAsync($"/v2/samples/soft/manifests/{image.ManifestDigest}"))
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains(image.ManifestDigest, await az.OkAsync("acr", "manifest", "list-deleted", "-r", "myregistry", "-n", "samples/soft", "--query", "[].digest", "-o", "tsv"));
        Assert.Contains("samples/soft", await az.OkAsync("acr", "repository", "list-deleted", "-n", "myregistry", "-o", "tsv"));
        using (var admin = Server.CreateAdminClient())
            await admin.PushManifestAsync("samples/soft", "v1", image.VariantManifest("newer"));
        var refused = await az.RunAsync("acr", "manifest", "restore", "-r", "myregistry", "-n", "samples/soft:v1", "-d", image.ManifestDigest, "--yes");
        Assert.True(refused.ExitCode != 0, refused.Describe());
        await az.OkAsync("acr", "manifest", "restore", "-r", "myregistry", "-n", "samples/soft:v1", "-d", image.ManifestDigest, "--force", "--yes", "-o", "none");
        using (var admin = Server.CreateAdminClient())
        using (var tag = await admin.GetAsync("/v2/samples/soft/manifests/v1"))
        {
            Assert.Equal(HttpStatusCode.OK, tag.StatusCode);
            Assert.Equal(image.ManifestDigest, tag.Headers.GetValues("Docker-Content-Digest").Single());
        }
        Assert.DoesNotContain(image.ManifestDigest, await az.OkAsync("acr", "manifest", "list-deleted", "-r", "myregistry", "-n", "samples/soft", "--query", "[].digest", "-o", "tsv"));
        await az.OkAsync("acr", "config", "soft-delete", "update", "-r", "myregistry", "--status", "disabled", "-o", "none");
    }

    private const string SignatureType = "application/vnd.example.signature";

    /// <summary>An artifact manifest (empty config, one empty layer) whose subject is <paramref name="subject"/>.</summary>
    private static async Task<string> PushReferrerAsync(HttpClient client, string repository, string subject, int subjectSize)
    {
        var empty = "{}"u8.ToArray();
        var emptyDigest = await client.PushBlobAsync(repository, empty);
        var descriptor = new JsonObject { ["mediaType"] = "application/vnd.oci.empty.v1+json", ["digest"] = emptyDigest, ["size"] = empty.Length };
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = TestImage.ManifestMediaType,
            ["artifactType"] = SignatureType,
            ["config"] = descriptor.DeepClone(),
            ["layers"] = new JsonArray(descriptor.DeepClone()),
            ["subject"] = new JsonObject { ["mediaType"] = TestImage.ManifestMediaType, ["digest"] = subject, ["size"] = subjectSize },
        };
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var digest = TestImage.DigestOf(bytes);
        await client.PushManifestAsync(repository, digest, bytes);
        return digest;
    }

    /// <summary>Berth's collector, through the management plane with the signed-in principal (<c>az rest</c> takes the ARM token itself).</summary>
    private async Task CollectGarbageAsync(AzureCli az)
    {
        var id = await az.OkAsync("acr", "show", "-n", "myregistry", "--query", "id", "-o", "tsv");
        var report = await az.OkAsync("rest", "--method", "post", "--url", $"{Server.ManagementUrl}{id.TrimStart('/')}/garbageCollect?api-version=2022-02-01-preview");
        output.WriteLine("garbage collection: " + report);
    }
}
