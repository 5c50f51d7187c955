using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Berth.Server.Tests.Access;

/// <summary>What one matrix request needs: a fresh request (arranged with the admin's client where it needs state) and how to check its effect.</summary>
public sealed record ArrangedRequest(HttpRequestMessage Request, Func<HttpResponseMessage, Task>? VerifyAllowed = null, Func<Task>? VerifyDenied = null, string? MountSource = null);

/// <summary>
/// One data-plane endpoint of the matrix: the repository actions it needs (or the catalog), the challenge scope ACR
/// names for it (reference §1.2 table, written out literally here rather than derived from the server's table),
/// the status it answers when allowed, and how to arrange a fresh request for it.
/// </summary>
public sealed record MatrixEndpoint(
    string Name,
    string[] RequiredActions,
    bool NeedsCatalog,
    Func<string, string?> ChallengeScope,
    HttpStatusCode AllowedStatus,
    Func<AuthorizationMatrixFixture, string, Task<ArrangedRequest>> Arrange)
{
    public override string ToString() => Name;

    /// <summary>The <c>detail</c> entries of the UNAUTHORIZED body: one per needed action, capitalised keys.</summary>
    public IReadOnlyList<(string Type, string Name, string Action)> Detail(string repository) =>
        NeedsCatalog ? [("registry", "catalog", "*")] : RequiredActions.Select(a => ("repository", repository, a)).ToList();

    public static IReadOnlyList<MatrixEndpoint> All { get; } =
    [
        new("GET /v2/", [], false, _ => null, HttpStatusCode.OK, (f, r) => Simple(HttpMethod.Get, "/v2/",
            async response => Assert.Equal("{}", await response.Content.ReadAsStringAsync()))),
        new("GET /v2/_catalog", [], true, _ => "registry:catalog:*", HttpStatusCode.OK, (f, r) => Simple(HttpMethod.Get, "/v2/_catalog",
            async response => Assert.Contains($"\"{AuthorizationMatrixFixture.InsideRepository}\"", await response.Content.ReadAsStringAsync()))),
        new("GET tags/list", ["metadata_read"], false, r => $"repository:{r}:metadata_read", HttpStatusCode.OK, (f, r) => Simple(HttpMethod.Get, $"/v2/{r}/tags/list",
            async response => Assert.Contains("\"v1\"", await response.Content.ReadAsStringAsync()))),
        new("GET referrers", ["pull"], false, r => $"repository:{r}:pull", HttpStatusCode.OK, (f, r) => Simple(HttpMethod.Get, $"/v2/{r}/referrers/{f.Image.ManifestDigest}",
            async response => Assert.Contains("\"manifests\"", await response.Content.ReadAsStringAsync()))),
        new("GET manifest", ["pull"], false, r => $"repository:{r}:pull", HttpStatusCode.OK, (f, r) => Simple(HttpMethod.Get, $"/v2/{r}/manifests/v1",
            async response => Assert.Equal(f.Image.Manifest, await response.Content.ReadAsByteArrayAsync()), accept: TestImage.ManifestMediaType)),
        new("HEAD manifest", ["pull"], false, r => $"repository:{r}:pull", HttpStatusCode.OK, (f, r) => Simple(HttpMethod.Head, $"/v2/{r}/manifests/v1",
            response =>
            {
                Assert.Equal(f.Image.ManifestDigest, response.Headers.GetValues("Docker-Content-Digest").Single());
                return Task.CompletedTask;
            }, accept: TestImage.ManifestMediaType)),
        new("PUT manifest", ["pull", "push"], false, r => $"repository:{r}:pull,push", HttpStatusCode.Created, ArrangeManifestPutAsync),
        new("DELETE manifest", ["delete"], false, r => $"repository:{r}:delete", HttpStatusCode.Accepted, ArrangeManifestDeleteAsync),
        new("GET blob", ["pull"], false, r => $"repository:{r}:pull", HttpStatusCode.OK, (f, r) => Simple(HttpMethod.Get, $"/v2/{r}/blobs/{f.Image.LayerDigest}",
            async response => Assert.Equal(f.Image.Layer, await response.Content.ReadAsByteArrayAsync()))),
        new("HEAD blob", ["pull"], false, r => $"repository:{r}:pull", HttpStatusCode.OK, (f, r) => Simple(HttpMethod.Head, $"/v2/{r}/blobs/{f.Image.LayerDigest}",
            response =>
            {
                Assert.Equal(f.Image.Layer.Length, response.Content.Headers.ContentLength);
                return Task.CompletedTask;
            })),
        new("DELETE blob", ["delete"], false, r => $"repository:{r}:delete", HttpStatusCode.Accepted, ArrangeBlobDeleteAsync),
        new("POST upload", ["pull", "push"], false, r => $"repository:{r}:pull,push", HttpStatusCode.Accepted, (f, r) => Simple(HttpMethod.Post, $"/v2/{r}/blobs/uploads/",
            response =>
            {
                Assert.NotNull(response.Headers.Location);
                return Task.CompletedTask;
            })),
        new("PATCH upload", ["pull", "push"], false, r => $"repository:{r}:pull,push", HttpStatusCode.Accepted, ArrangeUploadPatchAsync),
        new("PUT upload", ["pull", "push"], false, r => $"repository:{r}:pull,push", HttpStatusCode.Created, ArrangeUploadPutAsync),
        new("GET upload", ["pull", "push"], false, r => $"repository:{r}:pull,push", HttpStatusCode.NoContent, async (f, r) =>
            new ArrangedRequest(new HttpRequestMessage(HttpMethod.Get, await f.Admin.StartUploadAsync(r)))),
        new("DELETE upload", ["pull", "push"], false, r => $"repository:{r}:pull,push", HttpStatusCode.NoContent, async (f, r) =>
            new ArrangedRequest(new HttpRequestMessage(HttpMethod.Delete, await f.Admin.StartUploadAsync(r)))),
        new("POST mount", ["pull", "push"], false, r => $"repository:{r}:pull,push", HttpStatusCode.Created, ArrangeMountAsync),
    ];

    public static MatrixEndpoint Get(string name) => All.Single(e => e.Name == name);

    private static Task<ArrangedRequest> Simple(HttpMethod method, string path, Func<HttpResponseMessage, Task>? verify = null, string? accept = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (accept is not null)
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        return Task.FromResult(new ArrangedRequest(request, verify));
    }

    private static Task<ArrangedRequest> ArrangeManifestPutAsync(AuthorizationMatrixFixture f, string repository)
    {
        var tag = "put-" + Guid.NewGuid().ToString("N")[..10];
        var manifest = f.Image.VariantManifest(tag);
        var request = new HttpRequestMessage(HttpMethod.Put, $"/v2/{repository}/manifests/{tag}") { Content = new ByteArrayContent(manifest) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(TestImage.ManifestMediaType);
        return Task.FromResult(new ArrangedRequest(request,
            async response =>
            {
                Assert.Equal(TestImage.DigestOf(manifest), response.Headers.GetValues("Docker-Content-Digest").Single());
                Assert.Equal(HttpStatusCode.OK, await f.AdminStatusAsync(HttpMethod.Head, $"/v2/{repository}/manifests/{tag}", TestImage.ManifestMediaType));
            },
            async () => Assert.Equal(HttpStatusCode.NotFound, await f.AdminStatusAsync(HttpMethod.Head, $"/v2/{repository}/manifests/{tag}", TestImage.ManifestMediaType))));
    }

    private static async Task<ArrangedRequest> ArrangeManifestDeleteAsync(AuthorizationMatrixFixture f, string repository)
    {
        var digest = await f.Admin.PushManifestAsync(repository, "del-" + Guid.NewGuid().ToString("N")[..10], f.Image.VariantManifest(Guid.NewGuid().ToString()));
        var path = $"/v2/{repository}/manifests/{digest}";
        return new ArrangedRequest(new HttpRequestMessage(HttpMethod.Delete, path),
            async _ => Assert.Equal(HttpStatusCode.NotFound, await f.AdminStatusAsync(HttpMethod.Head, path, TestImage.ManifestMediaType)),
            async () => Assert.Equal(HttpStatusCode.OK, await f.AdminStatusAsync(HttpMethod.Head, path, TestImage.ManifestMediaType)));
    }

    private static async Task<ArrangedRequest> ArrangeBlobDeleteAsync(AuthorizationMatrixFixture f, string repository)
    {
        var digest = await f.Admin.PushBlobAsync(repository, RandomNumberGenerator.GetBytes(64));
        var path = $"/v2/{repository}/blobs/{digest}";
        return new ArrangedRequest(new HttpRequestMessage(HttpMethod.Delete, path),
            async _ => Assert.Equal(HttpStatusCode.NotFound, await f.AdminStatusAsync(HttpMethod.Head, path)),
            async () => Assert.Equal(HttpStatusCode.OK, await f.AdminStatusAsync(HttpMethod.Head, path)));
    }

    private static async Task<ArrangedRequest> ArrangeUploadPatchAsync(AuthorizationMatrixFixture f, string repository)
    {
        var location = await f.Admin.StartUploadAsync(repository);
        var chunk = RandomNumberGenerator.GetBytes(32);
        var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(chunk) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Content.Headers.TryAddWithoutValidation("Content-Range", $"0-{chunk.Length - 1}");
        return new ArrangedRequest(request, response =>
        {
            Assert.Equal($"0-{chunk.Length - 1}", response.Headers.GetValues("Range").Single());
            return Task.CompletedTask;
        });
    }

    private static async Task<ArrangedRequest> ArrangeUploadPutAsync(AuthorizationMatrixFixture f, string repository)
    {
        var location = await f.Admin.StartUploadAsync(repository);
        var blob = RandomNumberGenerator.GetBytes(48);
        var digest = TestImage.DigestOf(blob);
        var request = new HttpRequestMessage(HttpMethod.Put, location + (location.Contains('?') ? "&" : "?") + "digest=" + digest) { Content = new ByteArrayContent(blob) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var blobPath = $"/v2/{repository}/blobs/{digest}";
        return new ArrangedRequest(request,
            async _ => Assert.Equal(HttpStatusCode.OK, await f.AdminStatusAsync(HttpMethod.Head, blobPath)),
            async () => Assert.Equal(HttpStatusCode.NotFound, await f.AdminStatusAsync(HttpMethod.Head, blobPath)));
    }

    private static async Task<ArrangedRequest> ArrangeMountAsync(AuthorizationMatrixFixture f, string repository)
    {
        var source = AuthorizationMatrixFixture.MountSourceFor(repository);
        var digest = await f.Admin.PushBlobAsync(source, RandomNumberGenerator.GetBytes(40));
        var blobPath = $"/v2/{repository}/blobs/{digest}";
        return new ArrangedRequest(new HttpRequestMessage(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?mount={digest}&from={source}"),
            async response =>
            {
                Assert.Equal(digest, response.Headers.GetValues("Docker-Content-Digest").Single());
                Assert.Equal(HttpStatusCode.OK, await f.AdminStatusAsync(HttpMethod.Head, blobPath));
            },
            async () => Assert.Equal(HttpStatusCode.NotFound, await f.AdminStatusAsync(HttpMethod.Head, blobPath)),
            MountSource: source);
    }
}
