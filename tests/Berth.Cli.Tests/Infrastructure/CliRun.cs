using System.Diagnostics;
using Berth.Testing;
using Berth.Cli.Cli;
using Berth.Cli.Commands;

namespace Berth.Cli.Tests.Infrastructure;

public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Error}";
}

/// <summary>Runs berth with a private environment: in-process (fast, same code path) or as the real executable.</summary>
public sealed class CliRun
{
    private readonly Dictionary<string, string?> _variables = new();

    public CliRun(string workingDirectory)
    {
        WorkingDirectory = workingDirectory;
        Home = Path.Combine(workingDirectory, "home");
        Directory.CreateDirectory(Home);
        // Never the developer's files: every lookup of the auth files lands in the test folder.
        Set("DOCKER_CONFIG", Path.Combine(workingDirectory, "docker"));
        Set("REGISTRY_AUTH_FILE", Path.Combine(workingDirectory, "containers", "auth.json"));
        ContainersRunDirectory = Path.Combine(workingDirectory, "run", "containers");
    }

    public string WorkingDirectory { get; }
    public string Home { get; }

    public Func<HttpMessageHandler>? Handler { get; set; }

    /// <summary>Stands for <c>/run/containers/$UID</c>; a scratch folder unless a test works with the machine's own.</summary>
    public string ContainersRunDirectory { get; set; }

    public CliRun Set(string name, string? value)
    {
        _variables[name] = value;
        return this;
    }

    public string? Get(string name) => _variables.TryGetValue(name, out var value) ? value : null;

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = new CliEnvironment
        {
            Out = output,
            Error = error,
            Interactive = false,
            GetVariable = Get,
            CurrentDirectory = WorkingDirectory,
            HomeDirectory = Home,
            ContainersRunDirectory = ContainersRunDirectory,
        };
        if (Handler is not null)
        {
            environment = new CliEnvironment
            {
                Out = output, Error = error, Interactive = false, GetVariable = Get, CurrentDirectory = WorkingDirectory, HomeDirectory = Home,
                ContainersRunDirectory = ContainersRunDirectory, CreateHandler = Handler,
            };
        }
        var exit = await BerthCli.RunAsync(args, environment);
        return new CliResult(exit, output.ToString(), error.ToString());
    }

    /// <summary>The real executable: <c>dotnet berth.dll ...</c> in the working directory with this environment.</summary>
    public async Task<CliResult> RunProcessAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = WorkingDirectory,
        };
        start.ArgumentList.Add(BerthDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["HOME"] = Home;
        foreach (var (name, value) in _variables)
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The berth.dll the live server runs too (<see cref="BerthProcess.ServerDllPath"/>).</summary>
    public static string BerthDll => BerthProcess.ServerDllPath;
}

/// <summary>A scratch folder removed on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("berth-cli-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
        }
    }
}
