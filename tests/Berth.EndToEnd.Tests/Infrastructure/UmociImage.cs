namespace Berth.EndToEnd.Tests.Infrastructure;

/// <summary>Single-platform images made by umoci, the way a user without a container daemon makes one.</summary>
public static class UmociImage
{
    /// <summary>
    /// Creates an OCI layout at <paramref name="layout"/> holding exactly one image tagged <paramref name="tag"/> with
    /// <paramref name="payload"/> at <c>/data/payload.bin</c>; returns its manifest digest.
    /// </summary>
    public static async Task<string> CreateAsync(string layout, string tag, string payload)
    {
        (await ExternalTool.RunAsync("umoci", ["init", "--layout", layout])).EnsureSuccess();
        (await ExternalTool.RunAsync("umoci", ["new", "--image", $"{layout}:{tag}"])).EnsureSuccess();
        (await ExternalTool.RunAsync("umoci", ["insert", "--image", $"{layout}:{tag}", payload, "/data/payload.bin"])).EnsureSuccess();
        // umoci keeps the superseded manifest and config of `new`; drop them so the layout is exactly one image.
        (await ExternalTool.RunAsync("umoci", ["gc", "--layout", layout])).EnsureSuccess();
        return OciLayout.FindReference(layout, tag)["digest"]!.GetValue<string>();
    }
}
