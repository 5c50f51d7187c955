using System.Globalization;
using Berth.Server.Access;
using Berth.Server.Requests;

namespace Berth.Server.DataPlane;

internal static class UploadHandlers
{
    /// <summary>POST: a cross-repository mount, a monolithic upload (<c>?digest=</c>), or a new session.</summary>
    public static async Task StartAsync(HttpContext context, RegistryRequest request)
    {
        var repository = request.Repository;
        var caller = request.RequiredCaller;
        var query = context.Request.Query;
        var cancellationToken = context.RequestAborted;
        await PullThroughRequests.EnsurePushAllowedAsync(context, repository);

        if (query.TryGetValue("mount", out var mount))
        {
            var digest = Digest.Parse(mount.ToString());
            RepositoryKey? from = null;
            if (query.TryGetValue("from", out var fromName) && !string.IsNullOrEmpty(fromName))
            {
                Names.EnsureRepository(fromName.ToString());
                from = repository with { Name = fromName.ToString() };
                var pullFrom = AccessScope.Repository(from.Value.Name, ScopeNames.Pull);
                if (ShouldAskForSource(caller, pullFrom))
                {
                    await Challenges.WriteAsync(context, request.Registry.LoginServer,
                        [AccessScope.Repository(repository.Name, ScopeNames.Pull, ScopeNames.Push), pullFrom], insufficientScope: true);
                    return;
                }
            }
            var mounted = await context.RequestServices.GetRequiredService<BlobService>().TryMountAsync(repository, digest, from, caller.Permissions, cancellationToken);
            if (mounted is not null)
            {
                WriteBlobCreated(context.Response, repository, mounted);
                return;
            }
            // Spec: when the blob cannot be mounted, answer as for a plain POST so the client uploads instead.
        }

        var uploads = Uploads(context);
        var session = await uploads.StartAsync(repository, cancellationToken);
        if (query.TryGetValue("digest", out var digestText))
        {
            var digest = Digest.Parse(digestText.ToString());
            var committed = await uploads.FinishAsync(repository, session.Id, digest, context.Request.Body, ReadRange(context.Request), cancellationToken);
            WriteBlobCreated(context.Response, repository, committed);
            return;
        }
        WriteUploadStatus(context.Response, repository, session.Id, 0, StatusCodes.Status202Accepted);
    }

    /// <summary>
    /// A mount from a repository the caller's access token does not cover: as distribution does, challenge for both
    /// repositories, so the client comes back with a token for the source too. But when the token service was already
    /// asked for the source and refused it, another challenge would only loop; the mount then becomes an upload. Basic
    /// callers carry their identity's full rights, so what they lack is refused for good and they upload too.
    /// </summary>
    private static bool ShouldAskForSource(RegistryPrincipal caller, AccessScope pullFrom) =>
        caller.ViaAccessToken && !caller.Permissions.Allows(pullFrom) && !caller.TokenWasRefused(pullFrom);

    public static async Task StatusAsync(HttpContext context, RepositoryKey repository, string uploadId)
    {
        var offset = await Uploads(context).GetOffsetAsync(repository, uploadId, context.RequestAborted);
        WriteUploadStatus(context.Response, repository, uploadId, offset, StatusCodes.Status204NoContent);
    }

    public static async Task PatchAsync(HttpContext context, RepositoryKey repository, string uploadId)
    {
        var offset = await Uploads(context).AppendAsync(repository, uploadId, context.Request.Body, ReadRange(context.Request), context.RequestAborted);
        WriteUploadStatus(context.Response, repository, uploadId, offset, StatusCodes.Status202Accepted);
    }

    public static async Task PutAsync(HttpContext context, RepositoryKey repository, string uploadId)
    {
        var digestText = context.Request.Query["digest"].ToString();
        if (string.IsNullOrEmpty(digestText))
            throw new OciException(OciErrorCode.DigestInvalid, "the digest query parameter is required to finish an upload");
        var digest = Digest.Parse(digestText);
        var request = context.Request;
        var hasBody = request.ContentLength > 0 || request.ContentLength is null && request.Headers.TransferEncoding.Count > 0;
        var committed = await Uploads(context).FinishAsync(repository, uploadId, digest, hasBody ? request.Body : null, ReadRange(request), context.RequestAborted);
        WriteBlobCreated(context.Response, repository, committed);
    }

    public static async Task CancelAsync(HttpContext context, RepositoryKey repository, string uploadId)
    {
        await Uploads(context).CancelAsync(repository, uploadId, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>
    /// Reads Content-Range as the spec writes it (<c>start-end</c>) and as HTTP does (<c>bytes start-end/total</c>).
    /// A malformed value is a 416 like an out-of-order one: either way the client has to ask where the upload stands.
    /// </summary>
    private static ChunkRange ReadRange(HttpRequest request)
    {
        var text = request.Headers.ContentRange.ToString();
        if (string.IsNullOrWhiteSpace(text)) return new ChunkRange(null, null, request.ContentLength);
        var value = text.Trim();
        if (value.StartsWith("bytes", StringComparison.OrdinalIgnoreCase)) value = value[5..].TrimStart(' ', '=');
        var slash = value.IndexOf('/');
        if (slash >= 0) value = value[..slash];
        var dash = value.IndexOf('-');
        if (dash <= 0
            || !long.TryParse(value[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !long.TryParse(value[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var end)
            || end < start)
        {
            throw new OciException(OciErrorCode.RangeInvalid, $"invalid Content-Range \"{text}\"; expected <start>-<end>", status: 416);
        }
        return new ChunkRange(start, end, request.ContentLength);
    }

    private static void WriteUploadStatus(HttpResponse response, RepositoryKey repository, string uploadId, long offset, int status)
    {
        response.StatusCode = status;
        response.Headers.Location = $"/v2/{repository.Name}/blobs/uploads/{uploadId}";
        // The spec's Range is inclusive; an empty upload is reported as 0-0, as distribution does.
        response.Headers.Range = $"0-{Math.Max(0, offset - 1)}";
        response.Headers[DataPlaneResults.UploadUuidHeader] = uploadId;
        response.ContentLength = 0;
    }

    private static void WriteBlobCreated(HttpResponse response, RepositoryKey repository, CommittedBlob blob)
    {
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = $"/v2/{repository.Name}/blobs/{blob.Digest}";
        response.Headers[DataPlaneResults.ContentDigestHeader] = blob.Digest.ToString();
        response.ContentLength = 0;
    }

    private static UploadService Uploads(HttpContext context) => context.RequestServices.GetRequiredService<UploadService>();
}
