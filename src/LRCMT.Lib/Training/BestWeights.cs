using LRCMT.Checkpoints;
using LRCMT.Errors;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

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

    /// <summary>
    /// Reads the best weights an earlier, interrupted run saved, so they survive a resume. When the run recorded a best
    /// epoch (<paramref name="required"/>) the file must exist; its tensors must match the trainable parameters by
    /// name, shape and dtype (the shared strict check).
    /// </summary>
    /// <param name="trainable">The trainable parameters.</param>
    /// <param name="required">True when the checkpoint says a best epoch was recorded.</param>
    /// <param name="fallbackPath">Where to look when this trainer keeps no file of its own (beside the resumed checkpoint).</param>
    public void LoadIfSaved(IReadOnlyList<(string Name, Parameter Param)> trainable, bool required, string? fallbackPath = null)
    {
        var file = path ?? fallbackPath;
        if (file is null || !File.Exists(file))
        {
            if (!required) return;
            throw new CorruptFileException(file ?? Trainer.BestCheckpointName, null,
                "the checkpoint records a best epoch but its best-weights file is missing; restoring best weights would silently use the last epoch's instead " +
                "(restore the file, or resume with RestoreBestWeights = false)");
        }
        var loaded = SafetensorsFile.Load(file);
        try
        {
            // Check against scratch copies: the strict path copies, and the live parameters must stay as they are.
            using var scope = NewDisposeScope();
            var targets = trainable.Select(t => (t.Name, (Tensor)empty(t.Param.shape, t.Param.dtype))).ToList();
            StateDictLoader.CopyStrict(targets, loaded, file);
        }
        catch
        {
            foreach (var t in loaded.Values) t.Dispose();
            throw;
        }
        Release();
        _weights = loaded;
    }

    public void Restore(IReadOnlyList<(string Name, Parameter Param)> trainable)
    {
        if (_weights is null) return;
        using (no_grad())
            StateDictLoader.CopyStrict(trainable.Select(t => (t.Name, (Tensor)t.Param)).ToList(), _weights, path ?? "best weights");
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
