using Berth.Server.AcrApi;
using Berth.Server.DataPlane;
using Berth.Server.Management;
using Berth.Server.Operations;
using Berth.Server.TokenService;

namespace Berth.Server.Hosting;

/// <summary>
/// Builds the Berth web application. Arguments use ASP.NET Core's configuration conventions
/// (<c>--urls</c>, <c>--Berth:DataPath=...</c>, environment variables prefixed <c>Berth__</c>),
/// so the CLI, the tests and a production host all start the same pipeline.
/// </summary>
public static class BerthApp
{
    public const string DefaultUrls = "http://127.0.0.1:5000";

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrls);
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Blob uploads are streamed to storage; the size of one request is bounded by storage, not memory.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AddServerHeader = false;
        });

        // Berth writes one line per request itself; ASP.NET Core's own per-request lines would double them.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddBerthRegistry(builder.Configuration);

        var app = builder.Build();
        app.UseBerthRequestLogging();
        app.MapOperations();
        app.MapTokenService();
        app.MapManagement();
        app.MapDataPlane();
        app.MapAcrApi();
        return app;
    }
}
