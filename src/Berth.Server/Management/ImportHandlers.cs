using System.Text.RegularExpressions;
using Berth.Core.Import;
using Berth.Core.Upstream;

namespace Berth.Server.Management;

/// <summary>
/// ACR's <c>POST registries/{r}/importImage</c> (reference: acr-lifecycle §3), a long-running operation: the request is
/// checked at once (body, source registry, the outbound guard), answered 202 with <c>Azure-AsyncOperation</c> and
/// <c>Location</c>, and the copy runs in the background (<see cref="ImportOperations"/>). az polls the first URL until its
/// status is final, then reads the second once. The source is a registry of this server (by resource id or login
/// server: blobs are mounted) or any other registry by login server (blobs are downloaded and verified).
/// </summary>
internal static partial class ImportHandlers
{
    /// <summary>az's poller waits this long between polls when told (its default is 30 seconds).</summary>
    private const string RetryAfterSeconds = "1";

    [GeneratedRegex(@"^/subscriptions/(?<sub>[^/]+)/resourceGroups/(?<rg>[^/]+)/providers/Microsoft\.ContainerRegistry/registries/(?<name>[^/]+)/?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex RegistryIdPattern();

    public static void MapRoutes(IEndpointRouteBuilder arm, string registryRoute)
    {
        arm.MapPost(registryRoute + "/importImage", ImportAsync);
        arm.MapGet(registryRoute + "/importOperations/{operationId}", StatusAsync);
        arm.MapGet(registryRoute + "/importResults/{operationId}", ResultAsync);
    }

    private static async Task ImportAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var sourceObject = ArmRequest.GetObject(body, "source") ?? throw ArmException.InvalidParameter("The property 'source' is required.");
        var (sourceRepository, sourceReference) = ParseSourceImage(ArmRequest.GetString(sourceObject, "sourceImage"));
        var targets = ParseTargets(body, sourceReference);
        var mode = ArmRequest.GetEnum(body, "mode", nameof(ImportMode.NoForce), nameof(ImportMode.Force)) == nameof(ImportMode.Force) ? ImportMode.Force : ImportMode.NoForce;
        var source = await OpenSourceAsync(context, sourceObject);

        var request = new ImportRequest(registry.Name, sourceRepository, sourceReference, targets, mode);
        var importer = context.RequestServices.GetRequiredService<ImageImporter>();
        var operation = context.RequestServices.GetRequiredService<ImportOperations>()
            .Start(registry.Name, cancellationToken => importer.ImportAsync(source, request, cancellationToken));

        var resource = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{ArmRegistry.Id(registry)}";
        var apiVersion = context.Request.Query["api-version"].ToString() is { Length: > 0 } v ? v : "2022-02-01-preview";
        context.Response.Headers["Azure-AsyncOperation"] = $"{resource}/importOperations/{operation.Id}?api-version={Uri.EscapeDataString(apiVersion)}";
        context.Response.Headers.Location = $"{resource}/importResults/{operation.Id}?api-version={Uri.EscapeDataString(apiVersion)}";
        context.Response.Headers.RetryAfter = RetryAfterSeconds;
        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    /// <summary>The operation status resource: <c>{id, name, status, startTime, endTime?, error?}</c>, plus Berth's <c>properties</c>.</summary>
    private static async Task StatusAsync(HttpContext context, string subscriptionId, string resourceGroup, string name, string operationId)
    {
        var operation = await FindOperationAsync(context, subscriptionId, resourceGroup, name, operationId);
        if (operation.Status == ImportOperation.InProgress) context.Response.Headers.RetryAfter = RetryAfterSeconds;
        await ArmResults.WriteJsonAsync(context, Describe(context, operation));
    }

    /// <summary>The final result: 202 while the import runs, then 200 with the status resource, or its error.</summary>
    private static async Task ResultAsync(HttpContext context, string subscriptionId, string resourceGroup, string name, string operationId)
    {
        var operation = await FindOperationAsync(context, subscriptionId, resourceGroup, name, operationId);
        switch (operation.Status)
        {
            case ImportOperation.InProgress:
                context.Response.Headers.Location = $"{context.Request.Scheme}://{context.Request.Host}{context.Request.PathBase}{context.Request.Path}{context.Request.QueryString}";
                context.Response.Headers.RetryAfter = RetryAfterSeconds;
                context.Response.StatusCode = StatusCodes.Status202Accepted;
                return;
            case ImportOperation.Failed:
                throw ImportFailed(operation);
            default:
                await ArmResults.WriteJsonAsync(context, Describe(context, operation));
                return;
        }
    }

    private static async Task<ImportOperation> FindOperationAsync(HttpContext context, string subscriptionId, string resourceGroup, string name, string operationId)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        return context.RequestServices.GetRequiredService<ImportOperations>().GetOrNull(registry.Name, operationId)
            ?? throw ArmException.NotFound($"The import operation '{operationId}' of registry '{registry.Name}' was not found (operations are kept for a day on the node that ran them).");
    }

    private static JsonObject Describe(HttpContext context, ImportOperation operation)
    {
        var status = new JsonObject
        {
            ["id"] = $"{context.Request.Path}",
            ["name"] = operation.Id,
            ["status"] = operation.Status,
            ["startTime"] = operation.StartTime.ToString("O"),
        };
        if (operation.EndTime is { } end) status["endTime"] = end.ToString("O");
        if (operation.Error is { } error) status["error"] = new JsonObject { ["code"] = error.Code, ["message"] = error.Message };
        if (operation.Result is { } result)
        {
            status["properties"] = new JsonObject
            {
                ["digest"] = result.Digest.ToString(),
                ["manifests"] = result.Manifests,
                ["blobsCopied"] = result.BlobsCopied,
                ["blobsMounted"] = result.BlobsMounted,
                ["bytesCopied"] = result.BytesCopied,
            };
        }
        return status;
    }

    private static ArmException ImportFailed(ImportOperation operation) =>
        new(operation.Error!.Value.Code is "NotFound" ? StatusCodes.Status404NotFound
            : operation.Error.Value.Code is "Conflict" ? StatusCodes.Status409Conflict
            : StatusCodes.Status400BadRequest, operation.Error.Value.Code, operation.Error.Value.Message);

    /// <summary><c>repo[:tag]</c> or <c>repo@digest</c>; a bare repository means its <c>latest</c> tag.</summary>
    private static (string Repository, Reference Reference) ParseSourceImage(string? sourceImage)
    {
        if (string.IsNullOrWhiteSpace(sourceImage)) throw ArmException.InvalidParameter("The property 'source.sourceImage' is required.");
        var at = sourceImage.IndexOf('@');
        var colon = sourceImage.LastIndexOf(':');
        var (repository, reference) = at > 0 ? (sourceImage[..at], sourceImage[(at + 1)..])
            : colon > sourceImage.LastIndexOf('/') ? (sourceImage[..colon], sourceImage[(colon + 1)..])
            : (sourceImage, "latest");
        if (!Names.IsValidRepository(repository)) throw ArmException.InvalidParameter($"The source image '{sourceImage}' does not name a valid repository.");
        if (at > 0 ? !Digest.TryParse(reference, out _) : !Names.IsValidTag(reference))
            throw ArmException.InvalidParameter($"The source image '{sourceImage}' does not end in a valid {(at > 0 ? "digest" : "tag")}.");
        return (repository, at > 0 ? new Reference(null, Digest.Parse(reference)) : new Reference(reference, null));
    }

    /// <summary>
    /// <c>targetTags</c> (<c>repo[:tag]</c>; the tag defaults to the source's, or <c>latest</c> for a digest) and
    /// <c>untaggedTargetRepositories</c> (manifests only); at least one target.
    /// </summary>
    private static List<ImportTarget> ParseTargets(JsonObject? body, Reference sourceReference)
    {
        var targets = new List<ImportTarget>();
        foreach (var entry in Strings(body, "targetTags"))
        {
            var colon = entry.LastIndexOf(':');
            var (repository, tag) = colon > entry.LastIndexOf('/') ? (entry[..colon], entry[(colon + 1)..]) : (entry, sourceReference.Tag ?? "latest");
            if (!Names.IsValidRepository(repository) || !Names.IsValidTag(tag))
                throw ArmException.InvalidParameter($"The target tag '{entry}' is not a valid 'repository:tag'.");
            targets.Add(new ImportTarget(repository, tag));
        }
        foreach (var repository in Strings(body, "untaggedTargetRepositories"))
        {
            if (!Names.IsValidRepository(repository)) throw ArmException.InvalidParameter($"The target repository '{repository}' is not a valid repository name.");
            targets.Add(new ImportTarget(repository, null));
        }
        return targets.Count > 0 ? targets
            : throw ArmException.InvalidParameter("Give at least one target: 'targetTags' or 'untaggedTargetRepositories'.");
    }

    private static IEnumerable<string> Strings(JsonObject? body, string name) =>
        (ArmRequest.GetArray(body, name) ?? []).Select(node => node is JsonValue value && value.TryGetValue(out string? text) && text.Length > 0
            ? text : throw ArmException.InvalidParameter($"Every entry of '{name}' must be a non-empty string."));

    /// <summary>
    /// A registry of this server (its resource id, or its login server) or a remote one. A remote source must pass the
    /// outbound guard now, so a refused destination fails the request itself and nothing is sent to it.
    /// </summary>
    private static async Task<IImageSource> OpenSourceAsync(HttpContext context, JsonObject source)
    {
        var sources = context.RequestServices.GetRequiredService<ImageSourceFactory>();
        var directory = context.RequestServices.GetRequiredService<RegistryDirectory>();
        var resourceId = ArmRequest.GetString(source, "resourceId");
        var registryUri = ArmRequest.GetString(source, "registryUri");
        var credentialsObject = ArmRequest.GetObject(source, "credentials");
        UpstreamCredentials? credentials = null;
        if (credentialsObject is not null)
        {
            var password = ArmRequest.GetString(credentialsObject, "password");
            if (string.IsNullOrEmpty(password)) throw ArmException.InvalidParameter("The property 'source.credentials.password' is required when credentials are given.");
            credentials = new UpstreamCredentials(ArmRequest.GetString(credentialsObject, "username") ?? "", password);
        }

        if (!string.IsNullOrWhiteSpace(resourceId))
        {
            var match = RegistryIdPattern().Match(resourceId);
            var registry = match.Success ? await directory.GetOrNullAsync(match.Groups["name"].Value, context.RequestAborted) : null;
            if (registry is null || !string.Equals(registry.ResourceGroup, match.Groups["rg"].Value, StringComparison.OrdinalIgnoreCase)
                || !string.Equals(registry.SubscriptionId, match.Groups["sub"].Value, StringComparison.OrdinalIgnoreCase))
                throw ArmException.NotFound($"The source registry '{resourceId}' was not found.");
            return sources.Local(registry);
        }
        if (string.IsNullOrWhiteSpace(registryUri))
            throw ArmException.InvalidParameter("The source needs 'resourceId' or 'registryUri'.");

        UpstreamEndpoint endpoint;
        try { endpoint = sources.EndpointFor(registryUri); }
        catch (ImportException error) { throw ArmException.InvalidParameter(error.Message); }
        // The management caller owns every registry of this server, so a local source needs no credentials of its own.
        if (await directory.FindByLoginServerOrNullAsync(endpoint.Authority, context.RequestAborted) is { } local) return sources.Local(local);
        try
        {
            await sources.EnsureAllowedAsync(endpoint, context.RequestAborted);
        }
        catch (ImportException refused)
        {
            throw ArmException.BadRequest($"The import source is refused: {refused.Message}.", refused.Code);
        }
        return sources.Remote(endpoint, credentials);
    }
}
