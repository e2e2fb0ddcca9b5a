using LRCMT.Errors;
using Microsoft.ML.OnnxRuntime;

namespace LRCMT.Onnx;

/// <summary>
/// An exported LRCMT model (<c>model.onnx</c> with its <c>model.json</c> manifest) in an ONNX Runtime session:
/// padded batches in, predictions out. No TorchSharp, no libtorch. Thread-safe for concurrent
/// <see cref="Predict(OnnxBatch)"/> calls (ONNX Runtime sessions are).
/// </summary>
/// <example>
/// <code>
/// using var model = LrcmtOnnxModel.Load("model.onnx");
/// var batch = OnnxBatch.Pad([new OnnxSample(tokenIds, acousticFrames, visualFrames)], model.PadTokenId, model.AcousticFeatures, model.VisualFeatures);
/// float score = model.Predict(batch).Values[0];
/// </code>
/// </example>
public sealed class LrcmtOnnxModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly HashSet<string> _inputs;

    private LrcmtOnnxModel(InferenceSession session, OnnxModelManifest manifest)
    {
        _session = session;
        Manifest = manifest;
        _inputs = [.. session.InputNames];
        AcousticFeatures = FeatureCount(session, OnnxInputNames.Acoustic);
        VisualFeatures = FeatureCount(session, OnnxInputNames.Visual);
        var output = session.OutputMetadata.TryGetValue(OnnxInputNames.Prediction, out var prediction) ? prediction
            : throw new CorruptFileException(manifest.ModelFile, null, $"the model has no '{OnnxInputNames.Prediction}' output; it is not an exported LRCMT model.");
        Classes = output.Dimensions.Length == 2 ? output.Dimensions[1] : 0;
    }

    /// <summary>The manifest read beside the model.</summary>
    public OnnxModelManifest Manifest { get; }

    /// <summary>Values per acoustic frame, or 0 when the model takes no acoustic input (text only).</summary>
    public int AcousticFeatures { get; }

    /// <summary>Values per visual frame, or 0 when the model takes no visual input.</summary>
    public int VisualFeatures { get; }

    /// <summary>Classes of a classification head, or 0 for regression (one score per sample).</summary>
    public int Classes { get; }

    /// <summary>The padding id of the model's tokenizer (0 when the manifest names no tokenizer).</summary>
    public long PadTokenId => Manifest.Tokenizer?.PadTokenId ?? 0;

    /// <summary>Loads <paramref name="modelPath"/> and its manifest (<see cref="OnnxModelManifest.PathFor"/>).</summary>
    /// <param name="modelPath">The exported <c>.onnx</c> file.</param>
    /// <param name="threads">Threads ONNX Runtime uses inside one operator (0 = its default, one per core).</param>
    /// <exception cref="FileNotFoundException">The model or its manifest does not exist.</exception>
    /// <exception cref="CorruptFileException">The manifest is not readable, or ONNX Runtime refuses the model.</exception>
    public static LrcmtOnnxModel Load(string modelPath, int threads = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"The ONNX model '{modelPath}' does not exist.", modelPath);
        var manifest = OnnxModelManifest.Load(OnnxModelManifest.PathFor(modelPath));
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        InferenceSession session;
        try
        {
            session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CorruptFileException(modelPath, null, $"ONNX Runtime cannot load the model: {e.Message}", e);
        }
        try
        {
            return new LrcmtOnnxModel(session, manifest);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Runs the model on a padded batch.</summary>
    /// <exception cref="ShapeMismatchException">An array's length does not fit the batch's sizes or the model's feature counts.</exception>
    /// <exception cref="InvalidInputException">A modality the model takes is missing.</exception>
    public OnnxPrediction Predict(OnnxBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            void Add(string name, OrtValue value) { names.Add(name); values.Add(value); }
            long[] text = [batch.Size, batch.TextLength];
            Add(OnnxInputNames.InputIds, Checked(batch.InputIds, OnnxInputNames.InputIds, text));
            Add(OnnxInputNames.AttentionMask, Checked(batch.AttentionMask, OnnxInputNames.AttentionMask, text));
            Add(OnnxInputNames.TokenTypeIds, Checked(batch.TokenTypeIds ?? new long[batch.Size * batch.TextLength], OnnxInputNames.TokenTypeIds, text));
            if (_inputs.Contains(OnnxInputNames.Acoustic))
            {
                Add(OnnxInputNames.Acoustic, Checked(Required(batch.Acoustic, "acoustic"), OnnxInputNames.Acoustic, [batch.Size, batch.AcousticLength, AcousticFeatures]));
                Add(OnnxInputNames.AcousticMask, Checked(Required(batch.AcousticMask, "acoustic mask"), OnnxInputNames.AcousticMask, [batch.Size, batch.AcousticLength]));
            }
            if (_inputs.Contains(OnnxInputNames.Visual))
            {
                Add(OnnxInputNames.Visual, Checked(Required(batch.Visual, "visual"), OnnxInputNames.Visual, [batch.Size, batch.VisualLength, VisualFeatures]));
                Add(OnnxInputNames.VisualMask, Checked(Required(batch.VisualMask, "visual mask"), OnnxInputNames.VisualMask, [batch.Size, batch.VisualLength]));
            }
            using var runOptions = new RunOptions();
            using var results = _session.Run(runOptions, names, values, [OnnxInputNames.Prediction]);
            return new OnnxPrediction(results[0].GetTensorDataAsSpan<float>().ToArray(), Classes);
        }
        finally
        {
            foreach (var value in values) value.Dispose();
        }
    }

    /// <summary>Closes the ONNX Runtime session.</summary>
    public void Dispose() => _session.Dispose();

    private static T[] Required<T>(T[]? values, string what) =>
        values ?? throw new InvalidInputException(what, "the model takes this input, but the batch has none.");

    private static OrtValue Checked<T>(T[] values, string name, long[] shape) where T : unmanaged
    {
        long expected = shape.Aggregate(1L, (a, b) => a * b);
        if (shape.Any(d => d < 1) || values.Length != expected)
            throw new ShapeMismatchException(name, $"{expected} values for [{string.Join(", ", shape)}]", [values.Length]);
        return OrtValue.CreateTensorValueFromMemory(values, shape);
    }

    private static int FeatureCount(InferenceSession session, string input) =>
        session.InputMetadata.TryGetValue(input, out var metadata) && metadata.Dimensions is [_, _, var features] ? features : 0;
}

/// <summary>What an exported LRCMT predicted for a batch.</summary>
/// <param name="Values">[batch] scores (regression), or [batch, classes] logits, row-major (classification).</param>
/// <param name="Classes">Classes per sample, or 0 for regression.</param>
public sealed record OnnxPrediction(float[] Values, int Classes)
{
    /// <summary>The class with the largest logit for sample <paramref name="index"/> (classification only).</summary>
    /// <exception cref="InvalidOperationException">The model is a regression model.</exception>
    public int PredictedClass(int index)
    {
        if (Classes == 0) throw new InvalidOperationException("A regression model predicts scores, not classes.");
        var row = Values.AsSpan(index * Classes, Classes);
        var best = 0;
        for (var c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
        return best;
    }
}
