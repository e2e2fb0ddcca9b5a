using FluentAssertions;
using LRCMT.Data;
using LRCMT.Data.Synthetic;
using LRCMT.Errors;
using Xunit;

namespace LRCMT.Tests.Synthetic;

public class ControlledBenchmarkTests
{
    private static ControlledBenchmarkOptions Small(int seed = 7) => new()
    {
        Seed = seed, TrainCount = 300, ValidCount = 60, TestCount = 90, AcousticLength = 24, VisualLength = 32,
    };

    [Fact]
    public void Same_seed_generates_identical_samples()
    {
        var first = ControlledBenchmark.Generate(Small());
        var second = ControlledBenchmark.Generate(Small());

        foreach (var (a, b) in AllSamples(first).Zip(AllSamples(second)))
        {
            b.Id.Should().Be(a.Id);
            b.Text.Should().Be(a.Text);
            b.Label.Should().Be(a.Label);
            b.Acoustic.Should().BeEquivalentTo(a.Acoustic, o => o.WithStrictOrdering());
            b.Visual.Should().BeEquivalentTo(a.Visual, o => o.WithStrictOrdering());
        }
    }

    [Fact]
    public void Different_seeds_generate_different_samples()
    {
        var first = ControlledBenchmark.Generate(Small(seed: 7));
        var second = ControlledBenchmark.Generate(Small(seed: 8));

        first.Train.Select(s => s.Text).Should().NotEqual(second.Train.Select(s => s.Text));
        first.Train.Select(s => s.Label).Should().NotEqual(second.Train.Select(s => s.Label));
        first.Test[0].Visual[0, 0].Should().NotBe(second.Test[0].Visual[0, 0]);
    }

    [Fact]
    public void Resizing_one_split_leaves_the_other_splits_unchanged()
    {
        var baseline = ControlledBenchmark.Generate(Small());
        var options = Small();
        options.TrainCount = 120;
        var resized = ControlledBenchmark.Generate(options);

        resized.Test.Select(s => s.Label).Should().Equal(baseline.Test.Select(s => s.Label));
        resized.Valid.Select(s => s.Text).Should().Equal(baseline.Valid.Select(s => s.Text));
    }

    [Fact]
    public void Every_label_follows_the_flip_rule_recomputed_from_the_event_times()
    {
        var options = Small();
        var data = ControlledBenchmark.Generate(options);

        foreach (var sample in AllSamples(data))
        {
            var truth = data.Explanations[sample.Id];
            // "At the same time" = some visual and some acoustic event centre within the configured tolerance.
            bool coOccur = truth.VisualEventTimes.Any(v =>
                truth.AcousticEventTimes.Any(a => Math.Abs(v - a) <= options.SimultaneityTolerance + 1e-12));
            float expected = Math.Clamp((coOccur ? -1f : 1f) * truth.TextPolarity * truth.IntensityScale, -3f, 3f);

            sample.Label.Should().BeApproximately(expected, 1e-6f, sample.Id);
            (truth.Cue == CueKind.CoOccurring).Should().Be(coOccur, sample.Id);
        }
    }

    [Fact]
    public void Decoys_never_place_events_close_enough_to_count_as_simultaneous()
    {
        var options = Small();
        var data = ControlledBenchmark.Generate(options);

        var apart = data.Explanations.Values.Where(e => e.Cue == CueKind.DecoyApart).ToList();
        apart.Should().NotBeEmpty();
        apart.Should().OnlyContain(e => Math.Abs(e.VisualEventTimes[0] - e.AcousticEventTimes[0]) >= options.DecoyMinGap - 1e-12);
        data.Explanations.Values.Where(e => e.Cue == CueKind.DecoyVisualOnly)
            .Should().OnlyContain(e => e.VisualEventTimes.Count == 1 && e.AcousticEventTimes.Count == 0);
        data.Explanations.Values.Where(e => e.Cue == CueKind.DecoyAcousticOnly)
            .Should().OnlyContain(e => e.VisualEventTimes.Count == 0 && e.AcousticEventTimes.Count == 1);
    }

    [Fact]
    public void Without_noise_each_event_peaks_at_its_stated_time_in_both_aligned_and_unaligned_sequences()
    {
        var options = Small();
        options.NoiseStd = 0;
        var data = ControlledBenchmark.Generate(options);

        foreach (var sample in data.Train)
        {
            var truth = data.Explanations[sample.Id];
            AssertPeaksAt(sample.Visual, truth.VisualEventTimes, sample.Id);
            AssertPeaksAt(sample.Acoustic, truth.AcousticEventTimes, sample.Id);
        }
    }

    [Fact]
    public void Intensity_channel_rises_with_the_intensity_level()
    {
        var options = Small();
        options.NoiseStd = 0;
        var data = ControlledBenchmark.Generate(options);
        int channel = options.AcousticFeatures - 1;

        var meanByLevel = data.Train
            .GroupBy(s => data.Explanations[s.Id].IntensityLevel)
            .OrderBy(g => g.Key)
            .Select(g => g.Average(s => s.Acoustic[0, channel]))
            .ToList();

        meanByLevel.Should().HaveCount(options.IntensityScales.Length);
        meanByLevel.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
    }

    [Fact]
    public void Negation_reverses_the_polarity_of_the_same_word_and_intensifier()
    {
        var data = ControlledBenchmark.Generate(Small());
        var polarities = data.Explanations.Values
            .GroupBy(e => (e.SentimentWord, e.Intensifier, e.Negated))
            .ToDictionary(g => g.Key, g => g.Select(e => e.TextPolarity).Distinct().Single());

        int compared = 0;
        foreach (var ((word, intensifier, negated), polarity) in polarities.Where(p => !p.Key.Negated))
        {
            if (!polarities.TryGetValue((word, intensifier, true), out float negatedPolarity)) continue;
            negatedPolarity.Should().Be(-polarity, $"'not {intensifier} {word}'");
            compared++;
        }
        compared.Should().BeGreaterThan(5);

        foreach (var sample in data.Train)
        {
            var truth = data.Explanations[sample.Id];
            var words = sample.Text!.TrimEnd('.').Split(' ');
            words.Should().Contain(truth.SentimentWord);
            words.Contains("not").Should().Be(truth.Negated, sample.Text);
        }
    }

    [Fact]
    public void Labels_lie_in_the_sentiment_range_and_use_both_signs()
    {
        var data = ControlledBenchmark.Generate(Small());
        var labels = AllSamples(data).Select(s => s.Label).ToList();

        labels.Should().OnlyContain(l => l >= -3f && l <= 3f);
        labels.Should().Contain(l => l > 0).And.Contain(l => l < 0);
        labels.Should().Contain(l => Math.Abs(l) == 3f, "strong sentences at high intensity saturate");
    }

    [Fact]
    public void Cue_proportions_match_the_configured_rates()
    {
        var options = new ControlledBenchmarkOptions
        {
            Seed = 3, TrainCount = 4000, ValidCount = 0, TestCount = 0, AcousticLength = 8, VisualLength = 8,
            CoOccurringRate = 0.25, DecoyRate = 0.45,
        };
        var data = ControlledBenchmark.Generate(options);
        double Share(Func<CueKind, bool> kind) => data.Explanations.Values.Count(e => kind(e.Cue)) / 4000.0;

        // Binomial standard error at n = 4000 is under 0.008, so ±0.03 is well beyond 3σ.
        Share(k => k == CueKind.CoOccurring).Should().BeApproximately(0.25, 0.03);
        Share(k => k is CueKind.DecoyApart or CueKind.DecoyVisualOnly or CueKind.DecoyAcousticOnly).Should().BeApproximately(0.45, 0.03);
        Share(k => k == CueKind.DecoyApart).Should().BeApproximately(0.15, 0.03);
        Share(k => k == CueKind.DecoyVisualOnly).Should().BeApproximately(0.15, 0.03);
        Share(k => k == CueKind.None).Should().BeApproximately(0.30, 0.03);
        (data.Explanations.Values.Count(e => e.Negated) / 4000.0).Should().BeApproximately(options.NegationRate, 0.03);
    }

    [Fact]
    public void Weak_events_take_heights_between_the_weakest_and_the_strongest_without_changing_the_labels()
    {
        var plain = ControlledBenchmark.Generate(Small());
        var options = Small();
        options.NoiseStd = 0;
        options.WeakestEventAmplitude = 0.5f;
        var graded = ControlledBenchmark.Generate(options);

        plain.Explanations.Values.SelectMany(e => e.VisualEventAmplitudes.Concat(e.AcousticEventAmplitudes))
            .Should().OnlyContain(a => a == plain.Options.EventAmplitude, "without a weakest height every event has EventAmplitude");
        var heights = graded.Explanations.Values.SelectMany(e => e.VisualEventAmplitudes.Concat(e.AcousticEventAmplitudes)).ToList();
        heights.Should().OnlyContain(a => a >= 0.5f && a <= 2.5f);
        heights.Min().Should().BeLessThan(1.0f, "heights are spread over the range");
        foreach (var sample in graded.Train.Where(s => graded.Explanations[s.Id].VisualEventTimes.Count > 0))
        {
            var truth = graded.Explanations[sample.Id];
            var peak = Enumerable.Range(0, sample.Visual.GetLength(0)).Max(t => sample.Visual[t, 0]);
            // Sampled at frames, the raised cosine reaches at least 0.8 of its height (frame spacing 1/31, half-width 0.06).
            peak.Should().BeInRange(0.8f * truth.VisualEventAmplitudes.Max(), truth.VisualEventAmplitudes.Max() + 1e-5f, $"{sample.Id} peaks near its event's height (noise 0)");
        }
        graded.Train.Select(s => s.Label).Should().Equal(plain.Train.Select(s => s.Label), "heights change what is seen, not the labels");
    }

    [Fact]
    public void Invalid_options_are_rejected_with_every_problem_listed()
    {
        var options = new ControlledBenchmarkOptions { TrainCount = 0, AcousticFeatures = 1, CoOccurringRate = 0.8, DecoyRate = 0.5, WeakestEventAmplitude = 3f };

        var act = () => ControlledBenchmark.Generate(options);

        var problems = act.Should().Throw<InvalidConfigurationException>().Which.Problems;
        problems.Should().HaveCount(4);
        problems.Select(p => p.Path).Should().BeEquivalentTo(["TrainCount", "AcousticFeatures", "DecoyRate", "WeakestEventAmplitude"]);
        problems.Should().Contain(p => p.Message.Contains("CoOccurringRate + DecoyRate"));
    }

    private static IEnumerable<MultimodalSample> AllSamples(ControlledBenchmarkSplits data) =>
        data.Train.Concat(data.Valid).Concat(data.Test);

    private static void AssertPeaksAt(float[,] frames, IReadOnlyList<double> times, string id)
    {
        int length = frames.GetLength(0);
        var channel0 = Enumerable.Range(0, length).Select(t => frames[t, 0]).ToArray();
        if (times.Count == 0)
        {
            channel0.Should().OnlyContain(v => v == 0f, $"{id} has no event in this modality");
            return;
        }
        int peak = Array.IndexOf(channel0, channel0.Max());
        double expectedFrame = times[0] * (length - 1);
        Math.Abs(peak - expectedFrame).Should().BeLessThanOrEqualTo(1.0, id);
    }
}
