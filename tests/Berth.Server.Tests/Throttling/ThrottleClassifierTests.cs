using Berth.Core.Throttling;
using Berth.Server.DataPlane;
using Berth.Server.Throttling;

namespace Berth.Server.Tests.Throttling;

public sealed class ThrottleClassifierTests
{
    [Theory]
    [InlineData("GET", "/v2/", ThrottleCategory.Read)]
    [InlineData("GET", "/v2/_catalog", ThrottleCategory.Read)]
    [InlineData("GET", "/v2/a/b/tags/list", ThrottleCategory.Read)]
    [InlineData("HEAD", "/v2/a/b/manifests/latest", ThrottleCategory.Read)]
    [InlineData("GET", "/v2/a/blobs/sha256:abc", ThrottleCategory.Read)]
    [InlineData("PUT", "/v2/a/manifests/latest", ThrottleCategory.Write)]
    [InlineData("POST", "/v2/a/blobs/uploads/", ThrottleCategory.Write)]
    [InlineData("DELETE", "/v2/a/manifests/sha256:abc", ThrottleCategory.Delete)]
    [InlineData("DELETE", "/v2/a/blobs/sha256:abc", ThrottleCategory.Delete)]
    [InlineData("GET", "/v2/a/referrers/sha256:abc", ThrottleCategory.Referrers)]
    // A repository named like a resource is still read from the end of the path.
    [InlineData("GET", "/v2/referrers/uploads/manifests/latest", ThrottleCategory.Read)]
    public void Request_IsClassifiedByResourceAndMethod(string method, string path, ThrottleCategory expected) =>
        Assert.Equal(expected, ThrottleClassifier.ForRequest(method, path));

    [Theory]
    [InlineData("PATCH")]
    [InlineData("PUT")]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public void RequestInsideAnUploadSession_IsNotCountedAgain(string method) =>
        Assert.Null(ThrottleClassifier.ForRequest(method, "/v2/a/b/blobs/uploads/3f2a9c"));

    [Theory]
    [InlineData("GET", "a/manifests/latest")]
    [InlineData("DELETE", "a/blobs/sha256:abc")]
    [InlineData("POST", "a/blobs/uploads/")]
    [InlineData("PATCH", "a/blobs/uploads/3f2a9c")]
    [InlineData("GET", "a/referrers/sha256:abc")]
    [InlineData("GET", "a/b/tags/list")]
    public void PathClassification_AgreesWithTheParsedRoute(string method, string path) =>
        Assert.Equal(ThrottleClassifier.ForDataPlane(DataPlaneRoute.Parse(path)!, method), ThrottleClassifier.ForRequest(method, "/v2/" + path));
}
