using LRCMT.Interop;
using FluentAssertions;
using LRCMT.Checkpoints;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using LRCMT.Formats.Safetensors;

namespace LRCMT.Tests.Training;

/// <summary>Resume refuses checkpoints that would abort the process or load silently wrong (issue 12).</summary>
public sealed class TrainerCheckpointValidationTests : IDisposable
{
    private const int AcousticDim = 3, VisualDim = 2;
    private readonly string _folder = Directory.CreateTempSubdirectory("lrcmt-resume-checks-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Dir(string name) => Path.Combine(_folder, name);

    private static List<MultimodalSample> Samples(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var acoustic = new float[3, AcousticDim];
            var visual = new float[3, VisualDim];
            for (int t = 0; t < 3; t++)
            {
                for (int d = 0; d < AcousticDim; d++) acoustic[t, d] = (float)random.NextDouble();
                for (int d = 0; d < VisualDim; d++) visual[t, d] = (float)random.NextDouble();
            }
            return new MultimodalSample($"s{i}", null, [1, 3 + random.Next(40), 2], acoustic, visual, (float)(random.NextDouble() * 2 - 1));
        }).ToList();
    }

    private static (MultimodalDataLoader, MultimodalDataLoader) Loaders() => (
        new MultimodalDataLoader(Samples(8, 1), new MultimodalCollator(), 4, shuffle: true, seed: 5),
        new MultimodalDataLoader(Samples(4, 2), new MultimodalCollator(), batchSize: 4));

    private static TrainerOptions Options(string folder, int epochs = 2) => new()
    {
        Epochs = epochs, LearningRate = 1e-2, AdapterLearningRate = 5e-3, WarmupRatio = 0.2, Patience = 0, CheckpointDirectory = folder, Seed = 7,
    };

    /// <summary>Trains one epoch of a two-epoch run and stops, leaving last.safetensors and best.safetensors in <paramref name="folder"/>.</summary>
    private static string Interrupted(string folder)
    {
        var (train, valid) = Loaders();
        using var model = new TinyRegressor(AcousticDim, VisualDim, seed: 3);
        using var cancel = new CancellationTokenSource();
        var stopAfterEpoch = new Progress(p => { if (p.Event == TrainingEvent.EpochCompleted) cancel.Cancel(); });
        new Trainer(Options(folder)).Fit(model, train, valid, stopAfterEpoch, cancel.Token).StopReason.Should().Be(TrainingStopReason.Cancelled);
        return Path.Combine(folder, Trainer.LastCheckpointName);
    }

    private static TrainingResult Resume(string checkpoint, string folder)
    {
        var (train, valid) = Loaders();
        using var model = new TinyRegressor(AcousticDim, VisualDim, seed: 3);
        return new Trainer(Options(folder)).Resume(model, train, valid, checkpoint, cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <summary>Rewrites one tensor of a safetensors file, keeping its metadata.</summary>
    private static void Replace(string path, string key, Tensor replacement)
    {
        var metadata = SafetensorsFile.ReadHeader(path).Metadata;
        var tensors = SafetensorsFile.Load(path);
        tensors[key].Dispose();
        tensors[key] = replacement;
        SafetensorsFile.Save(path, tensors, metadata);
        foreach (var t in tensors.Values) t.Dispose();
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("float")]
    public void A_wrong_rng_state_is_a_typed_error_not_a_process_abort(string lie)
    {
        string checkpoint = Interrupted(Dir("rng"));
        using var own = torch.get_rng_state();
        Replace(checkpoint, "rng/cpu", lie == "short" ? zeros(16, ScalarType.Byte) : zeros(own.shape, ScalarType.Float32));

        var resume = () => Resume(checkpoint, Dir("rng"));

        resume.Should().Throw<CorruptFileException>().WithMessage("*rng/cpu*generator state*");
    }

    [Theory]
    [InlineData(8, 0)]    // 'left' counter 0
    [InlineData(12, 0)]   // never seeded
    [InlineData(16, 999)] // 'next' index past the 624-word state
    public void A_generator_state_of_the_right_size_with_invalid_fields_is_a_typed_error(int offset, int value)
    {
        string checkpoint = Interrupted(Dir($"mt{offset}"));
        using var own = torch.get_rng_state();
        var bytes = own.bytes.ToArray();
        BitConverter.GetBytes(value).CopyTo(bytes, offset);
        var lie = empty(own.shape, ScalarType.Byte);
        lie.bytes = bytes;
        Replace(checkpoint, "rng/cpu", lie);

        var resume = () => Resume(checkpoint, Dir($"mt{offset}"));

        resume.Should().Throw<CorruptFileException>().WithMessage("*not a valid CPU generator state*");
    }

    [Fact]
    public void An_adamw_moment_of_another_shape_is_refused_not_broadcast()
    {
        string checkpoint = Interrupted(Dir("moment"));
        Replace(checkpoint, "optimizer/1/exp_avg", zeros(1));

        var resume = () => Resume(checkpoint, Dir("moment"));

        resume.Should().Throw<CheckpointMismatchException>().Which.ShapeMismatches.Should().ContainSingle()
            .Which.Should().Contain("optimizer/1/exp_avg").And.Contain("[1]");
    }

    [Fact]
    public void An_adamw_moment_of_another_dtype_is_refused_not_cast()
    {
        string checkpoint = Interrupted(Dir("dtype"));
        var shape = SafetensorsFile.ReadHeader(checkpoint).Entries["optimizer/0/exp_avg_sq"].Shape;
        Replace(checkpoint, "optimizer/0/exp_avg_sq", zeros(shape, ScalarType.Float64));

        var resume = () => Resume(checkpoint, Dir("dtype"));

        resume.Should().Throw<CheckpointMismatchException>().WithMessage("*optimizer/0/exp_avg_sq: expected dtype Float32 but got Float64*");
    }

    [Fact]
    public void A_missing_best_weights_file_is_refused_when_a_best_epoch_was_recorded()
    {
        string checkpoint = Interrupted(Dir("best"));
        File.Delete(Path.Combine(Dir("best"), Trainer.BestCheckpointName));

        var resume = () => Resume(checkpoint, Dir("best"));

        resume.Should().Throw<CorruptFileException>().WithMessage("*best*missing*");
    }

    [Fact]
    public void Best_weights_of_another_shape_are_refused()
    {
        string checkpoint = Interrupted(Dir("bestshape"));
        Replace(Path.Combine(Dir("bestshape"), Trainer.BestCheckpointName), "head.weight", zeros(1));

        var resume = () => Resume(checkpoint, Dir("bestshape"));

        resume.Should().Throw<CheckpointMismatchException>().WithMessage("*head.weight*");
    }

    [Fact]
    public void Metadata_without_its_fields_is_a_corrupt_file_not_a_null_reference()
    {
        string checkpoint = Interrupted(Dir("json"));
        var tensors = SafetensorsFile.Load(checkpoint);
        SafetensorsFile.Save(checkpoint, tensors, new Dictionary<string, string> { ["lrcmt.trainer"] = """{"Format":1}""" });
        foreach (var t in tensors.Values) t.Dispose();

        var resume = () => Resume(checkpoint, Dir("json"));

        resume.Should().Throw<CorruptFileException>().WithMessage("*missing*");
    }

    [Fact]
    public void A_diverged_run_leaves_a_checkpoint_that_resumes_bit_identically_to_a_clean_run()
    {
        var (train, valid) = Loaders();
        using var clean = new TinyRegressor(AcousticDim, VisualDim, seed: 3);
        new Trainer(Options(Dir("clean"), epochs: 3)).Fit(clean, train, valid, cancellationToken: TestContext.Current.CancellationToken);

        using var diverging = new TinyRegressor(AcousticDim, VisualDim, seed: 3) { PoisonFromTrainingCall = 4 }; // epoch 1, step 3
        var fit = () => new Trainer(Options(Dir("diverged"), epochs: 3)).Fit(diverging, train, valid, cancellationToken: TestContext.Current.CancellationToken);
        fit.Should().Throw<NonFiniteLossException>().Which.Epoch.Should().Be(1);

        // A fresh process rebuilds the model (same frozen embeddings); every trainable weight must come from the checkpoint.
        using var resumed = new TinyRegressor(AcousticDim, VisualDim, seed: 3);
        using Scalar shift = 1.0; // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
        using (no_grad())
            foreach (var p in resumed.parameters().Where(p => p.requires_grad)) p.add_(shift, RootedScalars.One);
        new Trainer(Options(Dir("diverged"), epochs: 3)).Resume(resumed, train, valid, Path.Combine(Dir("diverged"), Trainer.LastCheckpointName),
            cancellationToken: TestContext.Current.CancellationToken);

        var expected = clean.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().data<float>().ToArray());
        foreach (var (name, parameter) in resumed.named_parameters())
            parameter.detach().data<float>().ToArray().Should().Equal(expected[name], $"{name} must be bit-identical");
    }
}
