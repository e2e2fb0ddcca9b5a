using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace LRCMT.Tests.Export;

/// <summary>Runs an ONNX file with ONNX Runtime (all graph optimisations on) and hands the outputs back as tensors.</summary>
internal sealed class OnnxRuntimeRunner : IDisposable
{
    private readonly InferenceSession _session;

    public OnnxRuntimeRunner(string path)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1 };
        _session = new InferenceSession(path, options);
    }

    public IReadOnlyList<string> InputNames => _session.InputNames;

    /// <summary>Feeds int64 and float32 CPU tensors by name; returns every output by name.</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var values = new List<OrtValue>();
        try
        {
            foreach (var name in _session.InputNames)
            {
                var tensor = inputs[name].contiguous();
                values.Add(tensor.dtype == ScalarType.Int64
                    ? OrtValue.CreateTensorValueFromMemory(tensor.data<long>().ToArray(), tensor.shape)
                    : OrtValue.CreateTensorValueFromMemory(tensor.to(ScalarType.Float32).data<float>().ToArray(), tensor.shape));
            }
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, _session.InputNames, values, _session.OutputNames);
            var outputs = new Dictionary<string, Tensor>();
            for (var i = 0; i < results.Count; i++)
                outputs[_session.OutputNames[i]] = tensor(results[i].GetTensorDataAsSpan<float>().ToArray(), results[i].GetTensorTypeAndShape().Shape);
            return outputs;
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    public void Dispose() => _session.Dispose();
}
