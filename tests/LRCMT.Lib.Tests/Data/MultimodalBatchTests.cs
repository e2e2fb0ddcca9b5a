using FluentAssertions;
using LRCMT.Data;
using LRCMT.Errors;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Data;

/// <summary><see cref="MultimodalBatch.FromTensors"/>: a batch from a user's own padded tensors, checked, equal to the collator's.</summary>
public class MultimodalBatchTests
{
    private static float[,] Frames(int time, int dim, float start)
    {
        var frames = new float[time, dim];
        for (int t = 0; t < time; t++) for (int d = 0; d < dim; d++) frames[t, d] = start + t * dim + d;
        return frames;
    }

    // The same frames zero-padded by hand to [batch, length, dim].
    private static Tensor Padded(float[][,] samples, int length)
    {
        int dim = samples[0].GetLength(1);
        var values = new float[samples.Length * length * dim];
        for (int b = 0; b < samples.Length; b++)
            for (int t = 0; t < samples[b].GetLength(0); t++)
                for (int d = 0; d < dim; d++) values[(b * length + t) * dim + d] = samples[b][t, d];
        return tensor(values, [samples.Length, length, dim]);
    }

    [Fact]
    public void A_batch_from_padded_tensors_and_lengths_equals_the_collators_batch_of_the_same_samples()
    {
        float[][,] acoustic = [Frames(2, 3, 1), Frames(4, 3, 50)];
        float[][,] visual = [Frames(3, 2, 7), Frames(1, 2, 90)];
        var samples = new[]
        {
            new MultimodalSample("a", null, [101, 7, 102], acoustic[0], visual[0], 0.5f),
            new MultimodalSample("b", null, [101, 8, 102], acoustic[1], visual[1], -1f),
        };
        using var collated = new MultimodalCollator().Collate(samples);

        using var built = MultimodalBatch.FromTensors(
            tensor(new long[] { 101, 7, 102, 101, 8, 102 }, [2, 3]), ones(2, 3, ScalarType.Int64),
            Padded(acoustic, 4), Padded(visual, 3), acousticLengths: [2, 4], visualLengths: [3, 1],
            labels: tensor(new[] { 0.5f, -1f }), ids: ["a", "b"]);

        built.AcousticMask.data<bool>().ToArray().Should().Equal(collated.AcousticMask.data<bool>().ToArray());
        built.VisualMask.data<bool>().ToArray().Should().Equal(collated.VisualMask.data<bool>().ToArray());
        built.Acoustic.allclose(collated.Acoustic, rtol: 0, atol: 0).Should().BeTrue();
        built.Visual.allclose(collated.Visual, rtol: 0, atol: 0).Should().BeTrue();
        built.Ids.Should().Equal(collated.Ids);
        built.Size.Should().Be(2);
    }

    [Fact]
    public void Without_lengths_every_frame_is_real_and_ids_number_the_rows_from_zero()
    {
        using var batch = MultimodalBatch.FromTensors(zeros(3, 4, ScalarType.Int64), ones(3, 4, ScalarType.Int64), zeros(3, 5, 2), zeros(3, 6, 1));

        batch.AcousticMask.all().item<bool>().Should().BeTrue();
        batch.VisualMask.shape.Should().Equal(3, 6);
        batch.VisualMask.all().item<bool>().Should().BeTrue();
        batch.Ids.Should().Equal("0", "1", "2");
        batch.Labels.Should().BeNull();
    }

    [Fact]
    public void A_length_beyond_the_padded_length_is_refused_naming_the_sample()
    {
        var act = () => MultimodalBatch.FromTensors(zeros(2, 4, ScalarType.Int64), ones(2, 4, ScalarType.Int64),
            zeros(2, 5, 2), zeros(2, 6, 1), acousticLengths: [5, 6]);

        act.Should().Throw<InvalidInputException>().Where(e => e.Message.Contains("acousticLengths") && e.Message.Contains("sample 1") && e.Message.Contains("[0, 5]"));
    }

    [Fact]
    public void Tensors_whose_batch_sizes_disagree_are_refused_naming_the_tensor()
    {
        var act = () => MultimodalBatch.FromTensors(zeros(2, 4, ScalarType.Int64), ones(2, 4, ScalarType.Int64), zeros(3, 5, 2), zeros(2, 6, 1));

        act.Should().Throw<ShapeMismatchException>().Where(e => e.Message.Contains("acoustic") && e.Message.Contains("[3, 5, 2]"));
    }

    [Fact]
    public void Float_token_ids_are_refused()
    {
        var act = () => MultimodalBatch.FromTensors(zeros(2, 4), ones(2, 4), zeros(2, 5, 2), zeros(2, 6, 1));

        act.Should().Throw<InvalidInputException>().Where(e => e.Message.Contains("int64"));
    }
}
