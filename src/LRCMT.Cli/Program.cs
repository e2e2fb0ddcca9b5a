using LRCMT.Cli;
using LRCMT.Cli.Reporting;

// Ctrl+C asks training to stop after the current step (the run keeps its last checkpoint); a second Ctrl+C kills.
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (interrupt.IsCancellationRequested) return;
    e.Cancel = true;
    interrupt.Cancel();
    Console.Error.WriteLine("Stopping after the current step (Ctrl+C again to kill)...");
};

var console = ConsoleFactory.Create(Console.Out, isTerminal: !Console.IsOutputRedirected);
return await new CliApp(console, Console.Error).RunAsync(args, interrupt.Token);
