namespace LRCMT.Tests.TestSupport;

/// <summary>
/// A thread that collects garbage and runs finalizers without pause while the test works: any object libtorch still
/// reads but .NET no longer references (an unrooted TorchSharp Scalar, see LRCMT.Interop.RootedScalars) is then freed
/// under the native call within a few thousand operations instead of once in a long run.
/// </summary>
internal sealed class BusyCollector : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;

    public BusyCollector()
    {
        _thread = new Thread(() =>
        {
            while (!_stop)
            {
                // Generation 0 only: the objects at risk are a moment old, and a full collection of the test host's
                // heap would take so long that the window inside a native call is rarely hit.
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true, Name = nameof(BusyCollector) };
        _thread.Start();
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
