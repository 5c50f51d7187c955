using Berth.Server.Requests;
using Berth.Server.Web.Pages;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;

namespace Berth.Server.Web;

/// <summary>
/// How the page answers: HTML rendered on the server from Razor components with <see cref="HtmlRenderer"/> (static
/// rendering: no Blazor circuit, no WebSocket, no script in the page), sent with the security headers below.
/// </summary>
/// <remarks>
/// Why Razor components rendered to a string: Razor encodes every expression it writes, so annotations, labels, names
/// and tags pushed by anyone reach the browser as text, never markup (the pages never use <c>MarkupString</c>); the
/// templates are compiled with the server, so there is nothing to deploy or fetch; and rendering is a tree walk over
/// already-loaded view data, well under a millisecond for a page of 50 tags, while the data reads are pushed into the
/// metadata store's SQL. Tests assert on the HTML itself.
/// </remarks>
public static class WebResponses
{
    /// <summary>
    /// The policy of every page: only this origin's style sheet and script, no inline script or style, images only from
    /// here or data: URLs, forms post only here, no framing, no &lt;base&gt;.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>The group metrics and logs count page requests under, and the HTML 503 it answers when a provider is down.</summary>
    public static EndpointGroup Group { get; } = new("web", WriteUnavailableAsync);

    public static void AddSecurityHeaders(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
    }

    /// <summary>Renders <typeparamref name="TPage"/> with <paramref name="model"/> and sends it. Pages show what one visitor may see, so no shared cache keeps them.</summary>
    public static async Task RenderAsync<TPage>(HttpContext context, object model, int status = StatusCodes.Status200OK) where TPage : IComponent
    {
        var services = context.RequestServices;
        await using var renderer = new HtmlRenderer(services, services.GetRequiredService<ILoggerFactory>());
        var html = await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<TPage>(ParameterView.FromDictionary(new Dictionary<string, object?> { ["Model"] = model }));
            return output.ToHtmlString();
        });
        var response = context.Response;
        AddSecurityHeaders(response);
        response.StatusCode = status;
        response.Headers.CacheControl = "no-store";
        response.ContentType = "text/html; charset=utf-8";
        var bytes = System.Text.Encoding.UTF8.GetBytes(html);
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    /// <summary>Unknown content, and content the visitor may not pull, look the same: 404, so a page never reveals what exists.</summary>
    public static Task NotFoundAsync(HttpContext context, WebVisitor visitor) =>
        RenderAsync<MessagePage>(context, new MessageModel(visitor, "Not found",
            "There is nothing here that you may see. It may not exist, or you may need to sign in."), StatusCodes.Status404NotFound);

    /// <summary>A request the page cannot answer as asked (a malformed paging cursor): 400, saying what to do instead.</summary>
    public static Task BadRequestAsync(HttpContext context, WebVisitor visitor, string message) =>
        RenderAsync<MessagePage>(context, new MessageModel(visitor, "Bad request", message), StatusCodes.Status400BadRequest);

    /// <summary>The throttle's 429 as a page; status, Retry-After and the budget headers are the API's.</summary>
    public static async Task WriteThrottledAsync(HttpContext context)
    {
        await RenderAsync<MessagePage>(context, new MessageModel(null, "Too many requests",
            $"This address has made too many requests. Try again in {context.Response.Headers.RetryAfter} seconds."), StatusCodes.Status429TooManyRequests);
    }

    private static Task WriteUnavailableAsync(HttpContext context, string message)
    {
        var response = context.Response;
        AddSecurityHeaders(response);
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.ContentType = "text/html; charset=utf-8";
        return response.WriteAsync("<!DOCTYPE html><html lang=\"en\"><title>Unavailable</title><p>" +
            System.Net.WebUtility.HtmlEncode(message) + "</p></html>", context.RequestAborted);
    }
}
