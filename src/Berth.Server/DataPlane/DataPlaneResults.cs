using Berth.Server.Requests;

namespace Berth.Server.DataPlane;

/// <summary>The registry's response conventions: the API version header on every response and OCI error bodies.</summary>
internal static class DataPlaneResults
{
    public const string ApiVersionHeader = "Docker-Distribution-Api-Version";
    public const string ContentDigestHeader = "Docker-Content-Digest";
    public const string UploadUuidHeader = "Docker-Upload-UUID";
    public const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>Messages quote names and digests; keep them readable rather than \u0022-escaped (bodies are JSON, never HTML).</summary>
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The group of an endpoint that answers in the registry's shape: registry headers and OCI errors.</summary>
    public static EndpointGroup Group(string name) => new(name, (context, message) =>
    {
        AddRegistryHeaders(context.Response);
        return WriteErrorAsync(context, new OciException(OciErrorCode.Unavailable, message));
    });

    public static void AddRegistryHeaders(HttpResponse response)
    {
        response.Headers[ApiVersionHeader] = "registry/2.0";
        response.Headers.XContentTypeOptions = "nosniff";
    }

    /// <summary>
    /// Runs a registry API handler (/v2 or /acr/v1) with the registry headers, turning spec errors and Kestrel's own
    /// request errors into OCI error bodies. Anything else is a bug and is left to the host's 500 handling.
    /// </summary>
    public static async Task RunAsync(HttpContext context, Func<Task> handler)
    {
        AddRegistryHeaders(context.Response);
        try
        {
            await handler();
        }
        catch (OciException error) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, error);
        }
        catch (Core.Upstream.UpstreamException error) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, PullThroughRequests.ToOciError(context, error));
        }
        catch (BadHttpRequestException error) when (!context.Response.HasStarted)
        {
            // Kestrel's own checks (a body shorter than its Content-Length, a body over a limit) keep their status.
            await WriteErrorAsync(context, new OciException(OciErrorCode.BlobUploadInvalid, error.Message, status: error.StatusCode));
        }
    }

    public static async Task WriteErrorAsync(HttpContext context, OciException error)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = JsonContentType;
        var body = new { errors = new[] { new { code = error.Code.Wire(), message = error.Message, detail = error.Detail } } };
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await JsonSerializer.SerializeAsync(response.Body, body, Json, context.RequestAborted);
    }

    public static Task WriteJsonAsync<T>(HttpContext context, T value, string contentType = JsonContentType)
    {
        context.Response.ContentType = contentType;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(value, Json);
        context.Response.ContentLength = bytes.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }
}
