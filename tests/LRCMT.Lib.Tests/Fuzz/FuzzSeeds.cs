using LRCMT.Interop;
using System.Text;
using LRCMT.Checkpoints;
using LRCMT.Data;
using LRCMT.LowRank;
using LRCMT.Tests.TestSupport;
using LRCMT.Tests.TextEncoders;
using LRCMT.Tests.Training;
using LRCMT.TextEncoders;
using LRCMT.Training;
using TorchSharp;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.Fuzz;

/// <summary>The valid files the fuzz suite damages, each generated in the test (nothing large is checked in).</summary>
internal static class FuzzSeeds
{
    public static byte[] Safetensors(string folder)
    {
        string path = Path.Combine(folder, "seed.safetensors");
        torch.manual_seed(1);
        var tensors = new Dictionary<string, Tensor>
        {
            ["encoder.weight"] = randn(3, 4), ["encoder.bias"] = zeros(4), ["ids"] = RootedScalars.Arange(5, ScalarType.Int64, CPU), ["half"] = ones(2, dtype: ScalarType.Float16),
        };
        SafetensorsFile.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        foreach (var t in tensors.Values) t.Dispose();
        return File.ReadAllBytes(path);
    }

    public static readonly BertConfig TinyBert = new()
    {
        VocabSize = 20, HiddenSize = 8, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 16, MaxPositionEmbeddings = 16, TypeVocabSize = 2,
    };

    /// <summary>A one-layer BERT as torch.onnx.export lays it out (named embeddings, anonymous transposed MatMul weights).</summary>
    public static byte[] Onnx()
    {
        torch.manual_seed(2);
        using var model = new BertModel(TinyBert);
        var writer = new OnnxTestModelWriter();
        int next = 900;
        foreach (var (key, value) in model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (value.dim() != 2 || key.StartsWith("embeddings.", StringComparison.Ordinal))
            {
                writer.Initializer(key, value, asFloatData: key.Contains("LayerNorm"));
                continue;
            }
            string anonymous = (next++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            string bias = key[..^".weight".Length] + ".bias";
            if (key.StartsWith("pooler.", StringComparison.Ordinal))
            {
                writer.Initializer(anonymous, value);
                writer.Node("Gemm", ["first", anonymous, bias], ["pooled"], ("transB", a => a.Int(3, 1)));
                continue;
            }
            using var transposed = value.t();
            writer.Initializer(anonymous, transposed);
            writer.Node("MatMul", ["hidden", anonymous], [$"p{anonymous}"]);
            writer.Node("Add", [bias, $"p{anonymous}"], [$"s{anonymous}"]);
        }
        writer.Int64Constant("heads", 2);
        writer.Int64Constant("head_size", 4);
        writer.Node("Concat", ["batch", "sequence", "heads", "head_size"], ["split"], ("axis", a => a.Int(3, 0)));
        writer.Node("Erf", ["x"], ["erf"]);
        writer.FloatConstant("eps", 1e-12f);
        writer.Node("Add", ["variance", "eps"], ["variance_eps"]);
        writer.Node("Sqrt", ["variance_eps"], ["std"]);
        return writer.ToArray();
    }

    public static byte[] BertConfigJson() => File.ReadAllBytes(Path.Combine(Fixtures.TinyBertFolder, "config.json"));

    public static byte[] Vocabulary() => File.ReadAllBytes(Path.Combine(Fixtures.TinyBertFolder, "vocab.txt"));

    public static byte[] AdapterConfig() => File.ReadAllBytes(Path.Combine(Fixtures.TinyLoraFolder, PeftAdapterFile.ConfigFileName));

    public static byte[] AdapterWeights() => File.ReadAllBytes(Path.Combine(Fixtures.TinyLoraFolder, PeftAdapterFile.WeightsFileName));

    /// <summary>A finished one-epoch run's last.safetensors and best.safetensors, written into <paramref name="folder"/>.</summary>
    public static byte[] TrainerCheckpoint(string folder)
    {
        using var model = new TinyRegressor(3, 2, seed: 3);
        var (train, valid) = Loaders();
        new Trainer(CheckpointOptions(folder)).Fit(model, train, valid);
        return File.ReadAllBytes(Path.Combine(folder, Trainer.LastCheckpointName));
    }

    public static TrainerOptions CheckpointOptions(string folder) => new()
    {
        Epochs = 1, LearningRate = 1e-2, AdapterLearningRate = 5e-3, Patience = 0, CheckpointDirectory = folder, Seed = 7,
    };

    public static (MultimodalDataLoader Train, MultimodalDataLoader Valid) Loaders()
    {
        var samples = Enumerable.Range(0, 4).Select(i =>
            new MultimodalSample($"s{i}", null, [1, 3 + i, 2], new float[2, 3], new float[2, 2], i * 0.5f - 1)).ToList();
        return (new MultimodalDataLoader(samples, new MultimodalCollator(), 2, shuffle: false, seed: 1),
                new MultimodalDataLoader(samples, new MultimodalCollator(), 4, shuffle: false, seed: 1));
    }

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
