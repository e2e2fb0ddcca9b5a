using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// <c>predict --engine onnx</c>: the exported model in ONNX Runtime (LRCMT.Onnx), fed the same padded batches as the
/// TorchSharp model, giving what <c>predict</c> writes (a score, or the argmax class of a classification head).
/// </summary>
internal sealed class OnnxEngine : IDisposable
{
    private readonly LrcmtOnnxModel _model;

    private OnnxEngine(LrcmtOnnxModel model) => _model = model;

    /// <exception cref="CliException">The file or its manifest is missing or unreadable (exit code <see cref="ExitCodes.RunError"/>).</exception>
    internal static OnnxEngine Open(string path, int threads)
    {
        if (!File.Exists(path))
            throw new CliException(ExitCodes.RunError, $"The ONNX model '{path}' does not exist; write it with 'lrcmt export <run>' (or name another with --onnx).");
        try
        {
            return new OnnxEngine(LrcmtOnnxModel.Load(path, threads));
        }
        catch (Exception e) when (e is LrcmtException or FileNotFoundException)
        {
            throw new CliException(ExitCodes.RunError, $"The ONNX model '{path}' could not be loaded: {e.Message}", e);
        }
    }

    internal float[] Predict(MultimodalBatch batch)
    {
        long[] Longs(Tensor t) => t.to(ScalarType.Int64).cpu().contiguous().data<long>().ToArray();
        float[] Floats(Tensor t) => t.to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        var input = new OnnxBatch((int)batch.Size, (int)batch.InputIds.shape[1], Longs(batch.InputIds), Longs(batch.AttentionMask),
            batch.TokenTypeIds is null ? null : Longs(batch.TokenTypeIds),
            (int)batch.Acoustic.shape[1], Floats(batch.Acoustic), Longs(batch.AcousticMask),
            (int)batch.Visual.shape[1], Floats(batch.Visual), Longs(batch.VisualMask));
        var prediction = _model.Predict(input);
        return prediction.Classes == 0
            ? prediction.Values
            : Enumerable.Range(0, input.Size).Select(i => (float)prediction.PredictedClass(i)).ToArray();
    }

    public void Dispose() => _model.Dispose();
}
