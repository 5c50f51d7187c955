using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Sdk;

namespace Berth.Conformance.Tests.TestSupport;

/// <summary>Assertions on registry responses whose failure messages carry the request and the response body.</summary>
public static class OciAssert
{
    public static async Task ExpectAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        if (response.StatusCode == expected) return;
        var body = await response.Content.ReadAsStringAsync();
        throw new XunitException(
            $"{RegistryClient.Describe(response)}, expected {(int)expected}.\nHeaders: {HeaderDump(response)}\nBody: {Truncate(body)}");
    }

    public static void HasHeader(this HttpResponseMessage response, string name, string expected)
    {
        var actual = response.Header(name);
        if (actual != expected)
            throw new XunitException(
                $"{RegistryClient.Describe(response)}: header {name} = {actual ?? "(absent)"}, expected {expected}.\nHeaders: {HeaderDump(response)}");
    }

    public static void LacksHeader(this HttpResponseMessage response, string name)
    {
        var actual = response.Header(name);
        if (actual is not null)
            throw new XunitException($"{RegistryClient.Describe(response)}: header {name} = {actual}, expected none");
    }

    public static async Task BodyEqualsAsync(this HttpResponseMessage response, byte[] expected)
    {
        var actual = await response.Content.ReadAsByteArrayAsync();
        if (!actual.AsSpan().SequenceEqual(expected))
            throw new XunitException(
                $"{RegistryClient.Describe(response)}: body of {actual.Length} bytes differs from the expected {expected.Length} bytes");
    }

    /// <summary>
    /// Checks an error response: the status, <c>Content-Type: application/json</c>, and the spec's
    /// <c>{"errors":[{"code","message","detail"?}]}</c> body with one of <paramref name="codes"/>.
    /// Returns the first error whose code matched.
    /// </summary>
    public static async Task<JsonObject> ErrorAsync(this HttpResponseMessage response, HttpStatusCode status, params string[] codes)
    {
        await response.ExpectAsync(status);
        var body = await response.Content.ReadAsStringAsync();
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType != "application/json")
            throw new XunitException($"{RegistryClient.Describe(response)}: error Content-Type is {mediaType ?? "(absent)"}, expected application/json. Body: {Truncate(body)}");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(body);
        }
        catch (JsonException e)
        {
            throw new XunitException($"{RegistryClient.Describe(response)}: error body is not JSON ({e.Message}): {Truncate(body)}");
        }
        if (root?["errors"] is not JsonArray { Count: > 0 } errors)
            throw new XunitException($"{RegistryClient.Describe(response)}: error body has no non-empty \"errors\" array: {Truncate(body)}");
        foreach (var error in errors)
        {
            if (error is not JsonObject obj || obj["code"]?.GetValueKind() != JsonValueKind.String)
                throw new XunitException($"{RegistryClient.Describe(response)}: an error has no string \"code\": {Truncate(body)}");
            if (obj["message"] is { } message && message.GetValueKind() != JsonValueKind.String)
                throw new XunitException($"{RegistryClient.Describe(response)}: an error's \"message\" is not a string: {Truncate(body)}");
        }
        var match = errors.OfType<JsonObject>().FirstOrDefault(e => codes.Contains((string)e["code"]!));
        if (match is null)
            throw new XunitException(
                $"{RegistryClient.Describe(response)}: error codes are not one of [{string.Join(", ", codes)}]: {Truncate(body)}");
        return match;
    }

    public static string Message(this JsonObject error) => (string?)error["message"] ?? "";

    private static string HeaderDump(HttpResponseMessage response) =>
        string.Join("; ", response.Headers.Concat(response.Content.Headers).Select(h => $"{h.Key}: {string.Join(",", h.Value)}"));

    private static string Truncate(string s) => s.Length <= 2000 ? s : s[..2000] + "...";
}
