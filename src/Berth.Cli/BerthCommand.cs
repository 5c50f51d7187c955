using Berth.Server.Hosting;

namespace Berth.Cli;

/// <summary>The <c>berth</c> executable's entry point.</summary>
internal static class BerthCommand
{
    private const string Usage = """
        Usage: berth serve [--data <folder>] [--urls <url>[;<url>...]] [--<Section>:<Key>=<value> ...]

          --data <folder>   where blobs, metadata and keys are kept (default: ./data)
          --urls <urls>     listen addresses (default: http://127.0.0.1:5000)
        Any other ASP.NET Core configuration key may be given as --Key=value or as an environment variable (Berth__DataPath).
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 1 : 0;
        }
        if (args[0] != "serve")
        {
            Console.Error.WriteLine($"berth: unknown command \"{args[0]}\". Run 'berth --help'.");
            return 2;
        }
        try
        {
            var app = BerthApp.Build(TranslateServeArguments(args[1..]));
            await app.RunAsync();
            return 0;
        }
        catch (InvalidOperationException error)
        {
            Console.Error.WriteLine($"berth: {error.Message}");
            return 1;
        }
    }

    /// <summary>Maps the friendly <c>--data</c> option onto the configuration key; everything else passes through to ASP.NET Core.</summary>
    private static string[] TranslateServeArguments(string[] args)
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
