using System.Net;
using System.Text;

namespace Berth.Cli.Tests.Infrastructure;

/// <summary>An in-memory server for shaping exact responses (ARM errors, warning headers) without a process.</summary>
public sealed class StubHandler : HttpMessageHandler
{
    private readonly Func<HttpRequestMessage, HttpResponseMessage> _respond;

    public StubHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) => _respond = respond;

    public List<string> Requests { get; } = [];

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (Requests)
        {
            Requests.Add($"{request.Method} {request.RequestUri!.AbsolutePath}");
        }
        return Task.FromResult(_respond(request));
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    /// <summary>A data folder whose endpoint.json and owner.json point at a stub server.</summary>
    public static void WriteDataFolder(string dataFolder, string endpoint = "http://127.0.0.1:1")
    {
        var management = Path.Combine(dataFolder, "management");
        Directory.CreateDirectory(management);
        File.WriteAllText(Path.Combine(management, "endpoint.json"), $$"""{"endpoint":"{{endpoint}}","tokenEndpoint":"{{endpoint}}/adfs/oauth2/token","loginServerSuffix":"acr.localhost"}""");
        File.WriteAllText(Path.Combine(management, "owner.json"), """{"clientId":"owner","clientSecret":"s3cret"}""");
    }

    /// <summary>Answers sign-in, the subscription list and the resources list for "myregistry" in resource group "rg"; everything else from <paramref name="arm"/>.</summary>
    public static Func<HttpRequestMessage, HttpResponseMessage> Arm(Func<HttpRequestMessage, HttpResponseMessage?> arm) => request =>
    {
        var path = request.RequestUri!.AbsolutePath;
        if (path == "/adfs/oauth2/token")
        {
            return Json(HttpStatusCode.OK, """{"access_token":"mgmt","expires_in":3600}""");
        }
        if (path == "/subscriptions")
        {
            return Json(HttpStatusCode.OK, """{"value":[{"id":"/subscriptions/sub1","subscriptionId":"sub1","state":"Enabled"}]}""");
        }
        if (path == "/subscriptions/sub1/resources")
        {
            return Json(HttpStatusCode.OK, """{"value":[{"id":"/subscriptions/sub1/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/myregistry","name":"myregistry","type":"Microsoft.ContainerRegistry/registries"}]}""");
        }
        return arm(request) ?? Json(HttpStatusCode.NotFound, """{"error":{"code":"NotFound","message":"stub has no such route"}}""");
    };
}
