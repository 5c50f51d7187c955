using System.Diagnostics;
using System.Net.Http.Headers;

namespace Berth.Cli.Cli;

/// <summary>
/// Sends every request of a command: --debug lines on stderr (method, URL, non-secret headers, JSON bodies, status),
/// and the server's <c>x-ms-berth-warning*</c> headers printed as az prints warnings.
/// </summary>
public static class HttpLog
{
    private static readonly HashSet<string> SecretFormFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "client_secret", "password", "access_token", "refresh_token", "assertion",
    };

    public static async Task<HttpResponseMessage> SendAsync(CommandContext context, HttpRequestMessage request, bool bodyHasSecrets = false)
    {
        if (context.Debug)
        {
            context.DebugLine($"Request: {request.Method} {request.RequestUri}");
            if (request.Headers.Host is { } host)
            {
                context.DebugLine($"Request header: Host: {host}");
            }
            if (request.Headers.Authorization is { } authorization)
            {
                context.DebugLine($"Request header: Authorization: {authorization.Scheme} ***");
            }
            if (request.Content is FormUrlEncodedContent form)
            {
                var text = await form.ReadAsStringAsync(context.CancellationToken);
                context.DebugLine("Request body: " + string.Join('&', text.Split('&').Select(RedactFormField)));
            }
            else if (request.Content is not null && !bodyHasSecrets)
            {
                context.DebugLine("Request body: " + await request.Content.ReadAsStringAsync(context.CancellationToken));
            }
        }
        var clock = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            response = await context.Http.SendAsync(request, context.CancellationToken);
        }
        catch (HttpRequestException error)
        {
            throw new CliException($"Cannot reach {request.RequestUri?.GetLeftPart(UriPartial.Authority)}: {CliException.Causes(error)}");
        }
        catch (TaskCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            throw new CliException($"{request.Method} {request.RequestUri?.GetLeftPart(UriPartial.Path)} timed out.");
        }
        context.DebugLine($"Response status: {(int)response.StatusCode} ({clock.ElapsedMilliseconds} ms)");
        if (context.Debug && response.Headers.WwwAuthenticate.Count > 0)
        {
            context.DebugLine($"Response header: WWW-Authenticate: {string.Join(", ", response.Headers.WwwAuthenticate)}");
        }
        foreach (var warning in Warnings(response.Headers))
        {
            context.Warn(warning);
        }
        return response;
    }

    /// <summary>Any header whose name starts with x-ms-berth-warning carries one warning per value.</summary>
    public static IEnumerable<string> Warnings(HttpResponseHeaders headers) =>
        headers.Where(h => h.Key.StartsWith("x-ms-berth-warning", StringComparison.OrdinalIgnoreCase))
            .SelectMany(h => h.Value)
            .Select(v => Uri.UnescapeDataString(v).Trim())
            .Where(v => v.Length > 0);

    private static string RedactFormField(string pair)
    {
        var equals = pair.IndexOf('=');
        if (equals < 0)
        {
            return pair;
        }
        var name = Uri.UnescapeDataString(pair[..equals]);
        return SecretFormFields.Contains(name) ? $"{pair[..equals]}=***" : pair;
    }
}
