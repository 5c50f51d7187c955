using Microsoft.AspNetCore.Server.Kestrel.Core;
using Berth.Server.Configuration;
using Berth.Server.Endpoints;
using Berth.Server.Hosting;
using Berth.Server.Hosting.Tls;
using Berth.Server.Management;
using Berth.Server.Operations;
using Berth.Server.TokenService;

namespace Berth.Server;

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
        NativeHeap.LimitArenas();
        EnsureThreadsForBlockingStores();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        var tlsMode = builder.Configuration.GetSection(TlsOptions.Section).Get<TlsOptions>()?.Mode ?? TlsMode.None;
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(tlsMode == TlsMode.LocalCa ? BerthTls.DefaultHttpsUrls : DefaultUrls);
        }
        // https listen addresses: Berth's local CA (Berth:Tls:Mode=LocalCa) or Kestrel's certificate configuration.
        var tls = BerthTls.Configure(builder, builder.Configuration.GetSection(BerthOptions.Section).Get<BerthOptions>() ?? new BerthOptions());
        builder.Services.AddSingleton(tls);
        builder.Services.AddSingleton<IStartupFilter, EncodedSlashPaths>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Blob uploads are streamed to storage; the size of one request is bounded by storage, not memory.
            kestrel.Limits.MaxRequestBodySize = null;
            // With no size limit, time limits are what stop a slow or stalled client (slowloris) from holding a
            // connection and an upload lock: headers must arrive within 10 s, and a body must keep up at least
            // 240 bytes/s after a 5 s grace (Kestrel's rate check; a stalled upload ends with 408).
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
            kestrel.AddServerHeader = false;
            // Blob downloads are written in 1 MiB pieces; a response buffer of two pieces lets the next piece be read
            // from the page cache while the socket still sends the previous one, instead of waiting for it to drain.
            kestrel.Limits.MaxResponseBufferSize = 2 << 20;
        });

        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        // Kestrel normally waits for a zero-byte receive before taking a buffer for each read: two system calls per
        // read, which a streaming upload makes thousands of times. Keeping a (pooled, 64 KiB) buffer per connection
        // instead measured 475 -> 499 MB/s and less CPU for 512 MiB pushes (medians of 16 interleaved pushes).
        builder.WebHost.UseSockets(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);

        // Berth writes one line per request itself; ASP.NET Core's own per-request lines would double them.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // The web page's antiforgery keys sit unencrypted in the private key folder, exactly like the token signing key;
        // Data Protection warns about that on every first start, which would only teach operators to ignore warnings.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager", LogLevel.Error);
        builder.Services.AddBerthRegistry(builder.Configuration);

        var app = builder.Build();
        app.UseTrustedProxies();
        app.UseBerthRequestLogging();
        app.UseProviderUnavailableResponses();
        app.UseSharedChangeGenerations();
        Management.SignIn.SignInEndpoints.UseMetadataEndpointsDoubleSlash(app);
        app.MapOperations();
        app.MapTokenService();
        app.MapManagement();
        app.MapRegistryApis();
        Web.WebEndpoints.MapWebPages(app);
        return app;
    }

    /// <summary>
    /// SQLite's ADO.NET provider completes its "async" calls synchronously, and a writer waiting for the database's
    /// single write lock sleeps on its thread. Under bursts of concurrent pushes that can hold many pool threads at
    /// once; the pool then grows only slowly, and meanwhile Kestrel cannot read other requests' headers in time.
    /// Starting with more threads absorbs such bursts.
    /// </summary>
    private static void EnsureThreadsForBlockingStores()
    {
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), completionPorts);
    }
}
