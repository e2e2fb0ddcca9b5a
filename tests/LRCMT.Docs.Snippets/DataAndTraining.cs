// docs/data-and-training.md
using LRCMT.Configuration;
using LRCMT.Data;
using LRCMT.Data.Mmsa;
using LRCMT.Evaluation;
using LRCMT.Experiments;
using LRCMT.TextEncoders;
using LRCMT.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace LRCMT.Docs.Snippets;

internal static class DataAndTraining
{
    internal static void TrainOnMosi(ILogger<Trainer> logger, IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
    {
        // Local files: MMSA's feature pickles and a Hugging Face BERT folder (config.json, vocab.txt, model.safetensors).
        var data = MmsaFeatureFile.Load("MOSI/aligned_50.pkl", new MmsaLoadOptions { TextSource = MmsaTextSource.RawText });
        var collator = new MultimodalCollator(BertTextTokenizer.FromVocabFile("bert-base-uncased/vocab.txt"), maxTextLength: 50);
        var train = new MultimodalDataLoader(data.Train.Samples, collator, batchSize: 32, shuffle: true, seed: 1111);
        var valid = new MultimodalDataLoader(data.Valid.Samples, collator, batchSize: 64);

        using var model = new LrcmtBuilder().WithPretrainedEncoder("bert-base-uncased").WithLoRA(l => l with { TargetModules = ["query", "key", "value"] })
            .WithModalities(data.AcousticDim, data.VisualDim).Build();
        var trainer = new Trainer(new TrainerOptions { Epochs = 20, CheckpointDirectory = "runs/mosi" }, logger);
        var result = trainer.Fit(model, train, valid, progress, cancellationToken);   // or trainer.Resume(..., "runs/mosi/last.safetensors")
        Console.WriteLine(Trainer.Evaluate(model, new MultimodalDataLoader(data.Test.Samples, collator, 64), MsaDataset.Mosi));
    }

    internal static void OwnTensors(ITextTokenizer tokenizer, LRCMT.Models.LRCMTModel model)
    {
        // Two clips: 5 acoustic and 20 visual features per frame, padded to 40 and 60 frames.
        var text = tokenizer.EncodeBatch(["what a film", "not for me"], maxLength: 50);
        using var batch = MultimodalBatch.FromTensors(text.InputIds, text.AttentionMask,
            acoustic: torch.randn(2, 40, 5), visual: torch.randn(2, 60, 20),
            acousticLengths: [40, 31], visualLengths: [60, 45], tokenTypeIds: text.TokenTypeIds);
        using var scores = model.call(batch);   // [2]: one sentiment score per clip (the batch owns, and disposes, the tensors)
    }

    internal static void CompareOverSeeds(Func<int, string, SeedRun?> trainAndTest)
    {
        SeedRun? TrainAndTest(int seed, string variant) => trainAndTest(seed, variant);

        // Run a configuration once per seed (null from the callback = interrupted: the sweep stops, finished seeds stay).
        var lrcmt = SeedSweep.Run([1, 2, 3, 4, 5], seed => TrainAndTest(seed, variant: "Lrcmt"));   // your code -> SeedRun
        var textOnly = SeedSweep.Run([1, 2, 3, 4, 5], seed => TrainAndTest(seed, variant: "TextOnly"));
        foreach (var s in lrcmt.Test) Console.WriteLine($"{s.Metric}: {s.Mean:F4} ± {s.StandardDeviation:F4} [{s.Min:F4}, {s.Max:F4}]");

        // Paired by seed; the bootstrap needs each run's SamplePredictions (Trainer.Predict(model, testLoader)).
        var comparisons = PairedComparison.Compare("Lrcmt", lrcmt.Runs, "TextOnly", textOnly.Runs, ["Has0_acc_2", "MAE"],
            (p, t) => MsaMetrics.Compute(MsaDataset.Mosi, p, t).Values);
        // comparisons[0].TInterval, .BootstrapInterval, .SeedsFavouringCandidate, .Conclusion
        _ = comparisons;
    }
}
