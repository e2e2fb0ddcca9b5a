using LRCMT.Cli.Reporting;
using LRCMT.Cli.Runs;
using LRCMT.Fusion;
using TorchSharp;

namespace LRCMT.Cli.Experiments;

/// <summary>
/// Runs a saved run's model on the first samples of a split with an <see cref="AttentionCapture"/> on, and draws the
/// last layer of every cross-modal encoder (heads averaged) per sample: for LRCMT, which visual frames each acoustic
/// frame attended to (and back), and the text's attention over the joint acoustic-visual memory.
/// </summary>
internal static class ExplanationRun
{
    /// <returns>The PNG files written.</returns>
    internal static IReadOnlyList<string> Execute(SavedRun run, string split, int samples, string folder, CliContext context)
    {
        using var restored = RestoredModel.Open(run, context, batchSize: samples);
        var model = restored.Model;
        model.eval();
        var device = model.parameters().First().device;
        Directory.CreateDirectory(folder);

        var batch = restored.Loader(split).Epoch(0).First();
        using (batch)
        using (var capture = AttentionCapture.Start(model))
        using (torch.no_grad())
        {
            var input = device.type == DeviceType.CPU ? batch : batch.To(device);
            using var output = model.call(input);
            var predictions = output.reshape(-1).to(torch.ScalarType.Float32).cpu().data<float>().ToArray();
            var labels = batch.Labels?.to(torch.ScalarType.Float32).data<float>().ToArray();
            if (!ReferenceEquals(input, batch)) input.Dispose();

            var lengths = new SequenceLengths(Lengths(batch.AttentionMask), Lengths(batch.AcousticMask), Lengths(batch.VisualMask), (int)batch.Acoustic.shape[1]);
            var tokens = Tokens(batch, restored.Encoder.Tokenizer, lengths.Text);
            var written = new List<string>();
            // The last layer of each encoder: the record of the module path seen last under each encoder prefix.
            foreach (var record in capture.Records.GroupBy(r => EncoderName(r.Module)).Select(g => g.Last()))
            {
                using var mean = record.Weights.mean([1]); // [batch, targetLen, sourceLen], heads averaged
                for (int i = 0; i < predictions.Length; i++)
                {
                    // Numbered from 0 like the split's samples (the controlled benchmark's ids end in the same number).
                    string path = Path.Combine(folder, $"sample-{i}-{EncoderName(record.Module).Split('.').Last()}.png");
                    AttentionMapPlot.Save(path, mean[i], EncoderName(record.Module), lengths.For(i), batch.Ids[i], predictions[i], labels?[i], tokens[i]);
                    written.Add(path);
                }
            }
            return written;
        }
    }

    private static string EncoderName(string module)
    {
        int layers = module.IndexOf(".layers.", StringComparison.Ordinal);
        return layers < 0 ? module : module[..layers];
    }

    /// <summary>Each sample's real tokens as text (the id where the vocabulary has no entry for it).</summary>
    internal static string[][] Tokens(LRCMT.Data.MultimodalBatch batch, LRCMT.TextEncoders.ITextTokenizer tokenizer, int[] lengths)
    {
        var ids = batch.InputIds.to(torch.ScalarType.Int64).cpu().data<long>().ToArray();
        int width = (int)batch.InputIds.shape[1];
        return lengths.Select((length, i) => Enumerable.Range(0, length)
            .Select(t => ids[i * width + t])
            .Select(id => tokenizer.IdToToken((int)id) ?? id.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .ToArray()).ToArray();
    }

    private static int[] Lengths(torch.Tensor mask) =>
        mask.to(torch.ScalarType.Int64).sum([1]).data<long>().Select(l => (int)l).ToArray();

    /// <summary>Real (unpadded) lengths of the three modalities per sample.</summary>
    internal sealed record SequenceLengths(int[] Text, int[] Acoustic, int[] Visual, int PaddedAcoustic)
    {
        internal AttentionMapPlot.Lengths For(int i) => new(Text[i], Acoustic[i], Visual[i], PaddedAcoustic);
    }
}
