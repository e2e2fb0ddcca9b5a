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

// SIGTERM (docker stop, systemd, kill) is a polite stop too: the run saves its checkpoint and exits 130; a second one kills.
using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
{
    if (interrupt.IsCancellationRequested) return;
    context.Cancel = true;
    interrupt.Cancel();
    Console.Error.WriteLine("SIGTERM: stopping after the current step (send it again to kill)...");
});

// A write past the file-size limit (ulimit -f) would otherwise kill the process with SIGXFSZ before the failed write
// could be reported. Ignored (not handled: a handled signal still pending when Main returns would kill the process at
// exit), the write fails with EFBIG and the run exits with its write-error code, keeping its checkpoint.
if (!OperatingSystem.IsWindows()) IgnoreSignal(25 /* SIGXFSZ on Linux and macOS */, 1 /* SIG_IGN */);

var console = ConsoleFactory.Create(Console.Out, isTerminal: !Console.IsOutputRedirected);
return await new CliApp(console, Console.Error).RunAsync(args, interrupt.Token);

[System.Runtime.InteropServices.DllImport("libc", EntryPoint = "signal")]
static extern nint IgnoreSignal(int signal, nint handler);
