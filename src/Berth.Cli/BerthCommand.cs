using Microsoft.AspNetCore.Builder;
using Berth.Core.Storage;
using Berth.Cli.Commands;
using Berth.Server.Hosting;
using Berth.Server.Configuration;
using Berth.Server;

namespace Berth.Cli;

/// <summary>The <c>berth</c> executable's entry point: <c>berth serve</c> runs the server, everything else is the <c>acr</c> command tree.</summary>
internal static class BerthCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "serve")
        {
            if (args.Skip(1).Any(a => a is "-h" or "--help"))
            {
                Console.WriteLine(ServeUsage);
                return 0;
            }
            return await ServeAsync(args[1..]);
        }
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        return await BerthCli.RunAsync(args, CliEnvironment.FromProcess(), cancellation.Token);
    }

    private const string ServeUsage = """
        Usage: berth serve [--data <folder>] [--urls <url>[;<url>...]] [--<Section>:<Key>=<value> ...]

          --data <folder>   where blobs, metadata and keys are kept (default: ./data)
          --urls <urls>     listen addresses (default: http://127.0.0.1:5000)
        Any other ASP.NET Core configuration key may be given as --Key=value or as an environment variable (Berth__DataPath).
        """;

    /// <summary>Parsed by hand, not by System.CommandLine: any ASP.NET Core <c>--Key=value</c> must pass through untouched.</summary>
    private static async Task<int> ServeAsync(string[] args)
    {
        WebApplication? app = null;
        try
        {
            FileCreationMask.RestrictToOwner();
            app = BerthApp.Build(TranslateServeArguments(args));
            await StartupDependencies.WaitAsync(app.Services);
            await app.RunAsync();
            return 0;
        }
        catch (IOException error) when (error.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            return await CannotStartAsync(app, AddressInUse(error));
        }
        catch (Exception error) when (error is InvalidOperationException or ProviderUnavailableException)
        {
            return await CannotStartAsync(app, error.Message);
        }
    }

    /// <summary>
    /// The one line that says why serving could not start, printed last: the console logger writes from a queue of its
    /// own, so the app is disposed first, which drains it (a "waiting for" line must not land after the reason).
    /// </summary>
    private static async Task<int> CannotStartAsync(WebApplication? app, string reason)
    {
        if (app is not null) await app.DisposeAsync();
        Console.Error.WriteLine($"berth: cannot start: {reason}");
        return 1;
    }

    /// <summary>Kestrel says "Failed to bind to address http://127.0.0.1:5000: address already in use."; the user needs the address and what to do.</summary>
    internal static string AddressInUse(IOException error)
    {
        var match = System.Text.RegularExpressions.Regex.Match(error.Message, @"address (\S+?):? address already in use", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        var address = match.Success ? match.Groups[1].Value : "the listen address";
        return $"{address} is already in use by another process: stop that process, or serve on another port with --urls (for example --urls http://127.0.0.1:5001).";
    }

    /// <summary>Maps the friendly <c>--data</c> option onto the configuration key; everything else passes through to ASP.NET Core.</summary>
    internal static string[] TranslateServeArguments(string[] args)
    {
        var result = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--data" && i + 1 < args.Length) result.Add($"--{BerthOptions.Section}:DataPath={args[++i]}");
            else if (args[i].StartsWith("--data=", StringComparison.Ordinal)) result.Add($"--{BerthOptions.Section}:DataPath={args[i]["--data=".Length..]}");
            else result.Add(args[i]);
        }
        return result.ToArray();
    }
}
