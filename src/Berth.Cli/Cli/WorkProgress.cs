using System.Diagnostics;
using Spectre.Console;

namespace Berth.Cli.Cli;

/// <summary>
/// Feedback for long work (<c>berth gc</c>, <c>berth fsck</c>) on stderr, so stdout keeps only the result: on a terminal a
/// Spectre.Console status line with a spinner and the elapsed time; otherwise (a pipe, a log file, CI) plain lines, one
/// when a step starts and one when it ends, that a log keeps readable.
/// </summary>
public sealed class WorkProgress
{
    private readonly CommandContext _context;
    private readonly string _command;

    public WorkProgress(CommandContext context, string command)
    {
        _context = context;
        _command = command;
    }

    public async Task<T> StepAsync<T>(string description, Func<Task<T>> work)
    {
        var clock = Stopwatch.StartNew();
        if (!_context.Environment.ErrorIsTerminal || _context.QuietWarnings)
        {
            if (!_context.QuietWarnings) _context.Environment.Error.WriteLine($"{_command}: {description}...");
            var result = await work();
            if (!_context.QuietWarnings) _context.Environment.Error.WriteLine($"{_command}: {description}: done in {clock.Elapsed.TotalSeconds:F1} s");
            return result;
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(_context.Environment.Error) });
        return await console.Status().Spinner(Spinner.Known.Dots).StartAsync(Markup.Escape(description), async status =>
        {
            var task = work();
            // The server does the work in one request; the line shows that it is still going, and for how long.
            while (await Task.WhenAny(task, Task.Delay(TimeSpan.FromMilliseconds(250), _context.CancellationToken)) != task)
                status.Status($"{Markup.Escape(description)} ({clock.Elapsed.TotalSeconds:F0} s)");
            var result = await task;
            console.MarkupLine($"[green]done[/] {Markup.Escape(description)} in {clock.Elapsed.TotalSeconds:F1} s");
            return result;
        });
    }
}
