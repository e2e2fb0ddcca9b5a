using LRCMT.Cli;
using Spectre.Console;

// Ctrl+C asks training to stop after the current step (the run keeps its last checkpoint); a second Ctrl+C kills.
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (interrupt.IsCancellationRequested) return;
    e.Cancel = true;
    interrupt.Cancel();
    Console.Error.WriteLine("Stopping after the current step (Ctrl+C again to kill)...");
};

return await new CliApp(AnsiConsole.Console, Console.Error).RunAsync(args, interrupt.Token);
