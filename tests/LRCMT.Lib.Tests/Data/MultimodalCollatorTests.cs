using FluentAssertions;
using LRCMT.Data;
using LRCMT.Errors;
using LRCMT.TextEncoders;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Data;

public class MultimodalCollatorTests
{
    /// <summary>Splits on spaces; id = word length + 10, [CLS] = 1, [SEP] = 2, pad = 0.</summary>
    private sealed class WordLengthTokenizer : ITextTokenizer
    {
        public int VocabularySize => 100;

        public EncodedBatch Encode(IReadOnlyList<string> texts, int maxLength)
        {
            var rows = texts.Select(t => new long[] { 1 }.Concat(t.Split(' ').Select(w => (long)w.Length + 10)).Take(maxLength - 1).Append(2).ToArray()).ToList();
            int length = rows.Max(r => r.Length);
            var ids = new long[texts.Count * length];
            var mask = new long[texts.Count * length];
            for (int b = 0; b < rows.Count; b++)
            {
                rows[b].CopyTo(ids, b * length);
                Array.Fill(mask, 1L, b * length, rows[b].Length);
            }
            return new EncodedBatch(ids, mask, new long[ids.Length], texts.Count, length);
        }
    }

    private static float[,] Frames(int time, int dim, float value)
    {
        var frames = new float[time, dim];
        for (int t = 0; t < time; t++) for (int d = 0; d < dim; d++) frames[t, d] = value + t;
        return frames;
    }

    [Fact]
    public void Sequences_are_zero_padded_to_the_longest_and_masks_mark_real_frames()
    {
        var samples = new[]
        {
            new MultimodalSample("a", null, [101, 7, 102], Frames(2, 3, 1f), Frames(1, 2, 5f), 0.5f) { TokenTypeIds = [0, 0, 0] },
            new MultimodalSample("b", null, [101, 102], Frames(4, 3, 10f), Frames(3, 2, 20f), -1f),
        };

        using var batch = new MultimodalCollator().Collate(samples);

        batch.InputIds.data<long>().ToArray().Should().Equal(101, 7, 102, 101, 102, 0);
        batch.AttentionMask.data<long>().ToArray().Should().Equal(1, 1, 1, 1, 1, 0);
        batch.Acoustic.shape.Should().Equal(2, 4, 3);
        batch.AcousticMask.data<bool>().ToArray().Should().Equal(true, true, false, false, true, true, true, true);
        batch.Acoustic[0, 1].data<float>().ToArray().Should().Equal(2f, 2f, 2f);
        batch.Acoustic[0, 2].data<float>().ToArray().Should().Equal(0f, 0f, 0f);
        batch.Visual.shape.Should().Equal(2, 3, 2);
        batch.VisualMask.data<bool>().ToArray().Should().Equal(true, false, false, true, true, true);
        batch.Labels!.data<float>().ToArray().Should().Equal(0.5f, -1f);
        batch.Ids.Should().Equal("a", "b");
    }

    [Fact]
    public void Samples_without_ids_are_tokenized_from_their_text()
    {
        var samples = new[]
        {
            new MultimodalSample("a", "good movie", null, Frames(1, 1, 0), Frames(1, 1, 0), 1f),
            new MultimodalSample("b", "bad", null, Frames(1, 1, 0), Frames(1, 1, 0), -1f),
        };

        using var batch = new MultimodalCollator(new WordLengthTokenizer(), maxTextLength: 8).Collate(samples);

        batch.InputIds.data<long>().ToArray().Should().Equal(1, 14, 15, 2, 1, 13, 2, 0);
        batch.AttentionMask.data<long>().ToArray().Should().Equal(1, 1, 1, 1, 1, 1, 1, 0);
    }

    [Fact]
    public void Text_only_samples_without_a_tokenizer_are_an_error_naming_the_sample()
    {
        var samples = new[] { new MultimodalSample("clip7", "text", null, Frames(1, 1, 0), Frames(1, 1, 0), 0f) };

        var collate = () => new MultimodalCollator().Collate(samples);

        collate.Should().Throw<InvalidInputException>().WithMessage("*clip7*tokenizer*");
    }

    [Fact]
    public void Samples_with_different_feature_sizes_are_a_shape_error()
    {
        var samples = new[]
        {
            new MultimodalSample("a", null, [1L], Frames(1, 3, 0), Frames(1, 2, 0), 0f),
            new MultimodalSample("b", null, [1L], Frames(1, 4, 0), Frames(1, 2, 0), 0f),
        };

        var collate = () => new MultimodalCollator().Collate(samples);

        collate.Should().Throw<ShapeMismatchException>().WithMessage("*acoustic*'b'*[time, 3]*[1, 4]*");
    }

    [Fact]
    public void Shuffled_epochs_are_seeded_permutations_that_differ_between_epochs()
    {
        var samples = Enumerable.Range(0, 20).Select(i => new MultimodalSample($"s{i}", null, [1L], Frames(1, 1, i), Frames(1, 1, 0), i)).ToList();
        var loader = new MultimodalDataLoader(samples, new MultimodalCollator(), batchSize: 8, shuffle: true, seed: 42);
        var again = new MultimodalDataLoader(samples, new MultimodalCollator(), batchSize: 8, shuffle: true, seed: 42);

        loader.Order(3).Should().Equal(again.Order(3));
        loader.Order(3).Should().BeEquivalentTo(Enumerable.Range(0, 20));
        loader.Order(3).Should().NotEqual(loader.Order(4));
        loader.Order(3).Should().NotEqual(new MultimodalDataLoader(samples, new MultimodalCollator(), 8, shuffle: true, seed: 43).Order(3));

        var labels = new List<float>();
        foreach (var batch in loader.Epoch(3))
            using (batch) labels.AddRange(batch.Labels!.data<float>().ToArray());
        loader.BatchCount.Should().Be(3);
        labels.Should().Equal(loader.Order(3).Select(i => (float)i));
    }
}
