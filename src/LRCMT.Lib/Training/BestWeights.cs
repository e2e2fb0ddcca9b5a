using LRCMT.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Training;

/// <summary>The trainable weights of the best epoch so far: kept in memory and, when a folder is set, in a file.</summary>
internal sealed class BestWeights(string? path) : IDisposable
{
    private Dictionary<string, Tensor>? _weights;

    public void Capture(IReadOnlyList<(string Name, Parameter Param)> trainable)
    {
        Release();
        // The scope takes the intermediate detach/cpu views; only the clones leave it.
        using var scope = NewDisposeScope();
        _weights = trainable.ToDictionary(t => t.Name, t => t.Param.detach().cpu().clone().MoveToOuterDisposeScope());
        if (path is not null) SafetensorsFile.Save(path, _weights);
    }

    /// <summary>Reads the file of an earlier, interrupted run (if there is one) so the best weights survive a resume.</summary>
    public void LoadIfSaved(IReadOnlyList<(string Name, Parameter Param)> trainable)
    {
        if (path is null || !File.Exists(path)) return;
        var loaded = SafetensorsFile.Load(path);
        if (trainable.All(t => loaded.ContainsKey(t.Name)))
        {
            Release();
            _weights = loaded;
        }
        else foreach (var t in loaded.Values) t.Dispose();
    }

    public void Restore(IReadOnlyList<(string Name, Parameter Param)> trainable)
    {
        if (_weights is null) return;
        using (no_grad())
            foreach (var (name, param) in trainable) param.copy_(_weights[name]);
        Release();
    }

    public void Dispose() => Release();

    private void Release()
    {
        if (_weights is null) return;
        foreach (var t in _weights.Values) t.Dispose();
        _weights = null;
    }
}
