using System.Globalization;
using System.Text.Json.Nodes;

namespace Berth.Core.Webhooks;

/// <summary>
/// The JSON ACR posts, field for field, so receivers written for ACR read Berth's events unchanged:
/// <c>{"id","timestamp","action","target":{…},"request":{"id","host","method","useragent"}}</c>.
/// </summary>
public static class WebhookPayloads
{
    /// <summary>
    /// A push names the manifest's size (twice, as <c>size</c> and <c>length</c>, as ACR does) and the pushed tag; a
    /// delete names what it deleted, with the tag when a tag was deleted (ACR sends no event for that; Berth does).
    /// </summary>
    public static string ForContent(string id, DateTimeOffset timestamp, ContentEvent change)
    {
        var target = new JsonObject { ["mediaType"] = change.MediaType };
        if (change.Size is { } size) target["size"] = size;
        target["digest"] = change.Digest.ToString();
        if (change.Size is { } length) target["length"] = length;
        target["repository"] = change.Repository.Name;
        if (change.Tag is not null) target["tag"] = change.Tag;
        if (change.Request is { Host.Length: > 0 } origin && change.Action == WebhookActions.Push)
            target["url"] = $"https://{origin.Host}/v2/{change.Repository.Name}/manifests/{change.Digest}";
        var payload = Envelope(id, timestamp, change.Action);
        payload["target"] = target;
        var request = change.Request ?? new EventRequest(Guid.NewGuid().ToString(), "", "", "");
        payload["request"] = new JsonObject
        {
            ["id"] = request.Id,
            ["host"] = request.Host,
            ["method"] = request.Method,
            ["useragent"] = request.UserAgent,
        };
        return payload.ToJsonString();
    }

    public static string ForPing(string id, DateTimeOffset timestamp) => Envelope(id, timestamp, WebhookActions.Ping).ToJsonString();

    private static JsonObject Envelope(string id, DateTimeOffset timestamp, string action) => new()
    {
        ["id"] = id,
        ["timestamp"] = timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
        ["action"] = action,
    };
}
