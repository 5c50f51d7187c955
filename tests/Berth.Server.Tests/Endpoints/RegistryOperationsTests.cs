using Berth.Core.Throttling;
using Berth.Oci;
using Berth.Server.Endpoints;
using Berth.Server.Requests;
using Microsoft.AspNetCore.Http;

namespace Berth.Server.Tests.Endpoints;

/// <summary>The one parse of registry paths and the table of operations: each request resolves to exactly one row.</summary>
public sealed class RegistryOperationsTests
{
    [Theory]
    [InlineData("GET", "/v2/", RegistryResource.Base, "", "", ThrottleCategory.Read, "v2_base")]
    [InlineData("GET", "/v2", RegistryResource.Base, "", "", ThrottleCategory.Read, "v2_base")]
    [InlineData("GET", "/v2/_catalog", RegistryResource.Catalog, "", "", ThrottleCategory.Read, "catalog")]
    [InlineData("GET", "/v2/a/b/tags/list", RegistryResource.Tags, "a/b", "", ThrottleCategory.Read, "tags")]
    [InlineData("HEAD", "/v2/a/manifests/v1", RegistryResource.Manifest, "a", "v1", ThrottleCategory.Read, "manifest")]
    [InlineData("PUT", "/v2/a/manifests/v1", RegistryResource.Manifest, "a", "v1", ThrottleCategory.Write, "manifest")]
    [InlineData("DELETE", "/v2/a/manifests/v1", RegistryResource.Manifest, "a", "v1", ThrottleCategory.Delete, "manifest")]
    [InlineData("GET", "/v2/team/blobs/app/manifests/v1", RegistryResource.Manifest, "team/blobs/app", "v1", ThrottleCategory.Read, "manifest")]
    [InlineData("GET", "/v2/team/manifests/x/blobs/sha256:ab", RegistryResource.Blob, "team/manifests/x", "sha256:ab", ThrottleCategory.Read, "blob")]
    [InlineData("GET", "/v2/a/referrers/sha256:ab", RegistryResource.Referrers, "a", "sha256:ab", ThrottleCategory.Referrers, "referrers")]
    [InlineData("POST", "/v2/a/blobs/uploads/", RegistryResource.UploadStart, "a", "", ThrottleCategory.Write, "upload")]
    [InlineData("PATCH", "/v2/a/blobs/uploads/3f2a", RegistryResource.UploadSession, "a", "3f2a", null, "upload")]
    [InlineData("GET", "/acr/v1/_catalog", RegistryResource.AcrCatalog, "", "", ThrottleCategory.Read, "acr")]
    [InlineData("GET", "/acr/v1/a/b", RegistryResource.AcrRepository, "a/b", "", ThrottleCategory.Read, "acr")]
    [InlineData("PATCH", "/acr/v1/a/_tags/v1", RegistryResource.AcrTag, "a", "v1", ThrottleCategory.Write, "acr")]
    [InlineData("GET", "/acr/v1/a/_manifests", RegistryResource.AcrManifests, "a", "", ThrottleCategory.Read, "acr")]
    [InlineData("DELETE", "/acr/v1/a/_manifests/sha256:ab", RegistryResource.AcrManifest, "a", "sha256:ab", ThrottleCategory.Delete, "acr")]
    public void Path_ResolvesToOneRow(string method, string path, RegistryResource resource, string repository, string argument, ThrottleCategory? throttle, string group)
    {
        var route = RegistryRoute.Parse(new PathString(path))!;
        Assert.Equal((resource, repository, argument), (route.Resource, route.Repository, route.Argument));
        var operation = RegistryOperations.Find(route, method);
        Assert.Equal((resource, throttle, group), (operation.Resource, operation.Throttle, operation.MetricsGroup));
        Assert.Single(RegistryOperations.All, o => o.Resource == resource && o.Serves(method));
    }

    [Theory]
    [InlineData("/v2/a/unknown/x")]
    [InlineData("/v2/a")]
    [InlineData("/oauth2/token")]
    [InlineData("/v2x/a/tags/list")]
    public void PathOfNoRegistryResource_HasNoRoute(string path) => Assert.Null(RegistryRoute.Parse(new PathString(path)));

    [Fact]
    public async Task UnsupportedMethodOnTheDataPlane_KeepsTheResourcesAccessAndAnswers405()
    {
        var route = RegistryRoute.Parse(new PathString("/v2/a/manifests/v1"))!;
        var operation = RegistryOperations.Find(route, "POST");
        Assert.Equal("repository:a:pull", Assert.Single(operation.Requires(route)).ToString());
        Assert.Equal(ThrottleCategory.Write, operation.Throttle);
        var error = await Assert.ThrowsAsync<OciException>(() => operation.Handler(new DefaultHttpContext(), null!));
        Assert.Equal(405, error.Status);
    }

    [Fact]
    public void UnsupportedMethodOnTheAcrApi_Is405AtOnce()
    {
        var route = RegistryRoute.Parse(new PathString("/acr/v1/a/_tags"))!;
        Assert.Equal(405, Assert.Throws<OciException>(() => RegistryOperations.Find(route, "PATCH")).Status);
    }

    [Fact]
    public void EveryRow_ServesDistinctMethodsOfItsResource()
    {
        var pairs = RegistryOperations.All.SelectMany(o => o.Methods.Select(m => (o.Resource, m))).ToList();
        Assert.Equal(pairs.Count, pairs.Distinct().Count());
    }
}
