using FluentAssertions;
using LRCMT.Data;
using LRCMT.Errors;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.Data;

public class MissingModalitiesTests
{
    private static readonly string[] Ids = ["clip_a$_$0", "clip_a$_$1", "clip_b$_$0", "clip_c$_$4"];
    private static readonly int[] TextLengths = [8, 5, 7, 3];
    private static readonly int[] AcousticLengths = [10, 7, 1, 4];
    private static readonly int[] VisualLengths = [6, 6, 2, 5];

    /// <summary>The samples <paramref name="rows"/> of a fixed set, padded to the lengths of the whole set (features are 1 + row + frame / 100).</summary>
    private static MultimodalBatch Batch(params int[] rows)
    {
        static Tensor Mask(int[] lengths, int[] rows, int width) =>
            tensor(rows.SelectMany(r => Enumerable.Range(0, width).Select(i => i < lengths[r])).ToArray(), [rows.Length, width]);
        static Tensor Frames(int[] rows, int width, int features) =>
            tensor(rows.SelectMany(r => Enumerable.Range(0, width * features).Select(i => 1 + r + i / features / 100f)).ToArray(), [rows.Length, width, features]);
        return new MultimodalBatch(
            InputIds: tensor(rows.SelectMany(r => Enumerable.Range(0, 8).Select(i => (long)(100 + i))).ToArray(), [rows.Length, 8]),
            AttentionMask: Mask(TextLengths, rows, 8).to(ScalarType.Int64),
            TokenTypeIds: null,
            Acoustic: Frames(rows, 10, 3), AcousticMask: Mask(AcousticLengths, rows, 10),
            Visual: Frames(rows, 6, 2), VisualMask: Mask(VisualLengths, rows, 6),
            Labels: tensor(rows.Select(r => (float)r).ToArray()),
            Ids: rows.Select(r => Ids[r]).ToArray());
    }

    private static bool[] Row(Tensor mask, int row) => mask[row].to(ScalarType.Bool).data<bool>().ToArray();

    private static int Real(Tensor mask, int row) => Row(mask, row).Count(m => m);

    [Fact]
    public void Masks_depend_on_the_seed_and_the_sample_alone_not_on_its_batch()
    {
        var missing = new MissingModalities { Rate = 0.5, Seed = 7, IncludeText = true };
        using var all = Batch(0, 1, 2, 3);
        using var reordered = Batch(3, 1, 0);
        using var a = missing.Apply(all);
        using var b = missing.Apply(reordered);
        using var again = missing.Apply(all);

        foreach (var (rowInAll, rowInReordered) in new[] { (3, 0), (1, 1), (0, 2) })
        {
            Row(a.AcousticMask, rowInAll).Should().Equal(Row(b.AcousticMask, rowInReordered));
            Row(a.VisualMask, rowInAll).Should().Equal(Row(b.VisualMask, rowInReordered));
            Row(a.AttentionMask, rowInAll).Should().Equal(Row(b.AttentionMask, rowInReordered));
        }
        a.AcousticMask.equal(again.AcousticMask).all().item<bool>().Should().BeTrue("the same seed gives the same masks");

        using var other = (missing with { Seed = 8 }).Apply(all);
        other.AcousticMask.equal(a.AcousticMask).all().item<bool>().Should().BeFalse("another seed draws other frames");
    }

    [Fact]
    public void Frames_mode_masks_a_rounded_share_of_each_streams_real_frames_and_zeroes_them()
    {
        using var batch = Batch(0, 1, 2, 3);
        using var masked = new MissingModalities { Rate = 0.3 }.Apply(batch);

        for (int row = 0; row < 4; row++)
        {
            // ⌊0.3·n + ½⌋ masked, but each stream keeps one frame: 10 → 7, 7 → 5, 1 → 1, 4 → 3; visual 6 → 4, 2 → 1, 5 → 3.
            Real(masked.AcousticMask, row).Should().Be(AcousticLengths[row] - Math.Min((int)Math.Round(0.3 * AcousticLengths[row], MidpointRounding.AwayFromZero), AcousticLengths[row] - 1));
            Real(masked.VisualMask, row).Should().Be(VisualLengths[row] - Math.Min((int)Math.Round(0.3 * VisualLengths[row], MidpointRounding.AwayFromZero), VisualLengths[row] - 1));
            Row(masked.AttentionMask, row).Should().Equal(Row(batch.AttentionMask, row), "the text is not masked unless asked");
            // Only real frames are masked: the new mask is within the old one.
            Row(masked.AcousticMask, row).Zip(Row(batch.AcousticMask, row)).Should().OnlyContain(p => !p.First || p.Second);
        }
        var dropped = batch.AcousticMask.logical_and(masked.AcousticMask.logical_not());
        masked.Acoustic[dropped].abs().sum().item<float>().Should().Be(0, "a masked frame holds zeros");
        masked.Acoustic[masked.AcousticMask].equal(batch.Acoustic[masked.AcousticMask]).all().item<bool>().Should().BeTrue("kept frames are unchanged");
        masked.AttentionMask.dtype.Should().Be(ScalarType.Int64, "the text mask keeps its dtype");
        masked.InputIds.equal(batch.InputIds).all().item<bool>().Should().BeTrue();
        batch.AcousticMask.sum().item<long>().Should().Be(AcousticLengths.Sum(), "the input batch is not changed");
    }

    [Fact]
    public void The_text_keeps_its_first_and_last_token_and_a_stream_keeps_a_frame_unless_asked()
    {
        using var batch = Batch(0, 1, 2, 3);
        using var all = new MissingModalities { Rate = 1, IncludeText = true }.Apply(batch);
        using var everything = new MissingModalities { Rate = 1, IncludeText = true, MayMaskWholeSample = true }.Apply(batch);

        for (int row = 0; row < 4; row++)
        {
            Real(all.AcousticMask, row).Should().Be(1);
            Real(all.VisualMask, row).Should().Be(1);
            var text = Row(all.AttentionMask, row);
            text[0].Should().BeTrue();
            text[TextLengths[row] - 1].Should().BeTrue();
            text.Count(t => t).Should().Be(Math.Min(TextLengths[row], 3), "[CLS], [SEP] and one word stay");

            Real(everything.AcousticMask, row).Should().Be(0);
            Real(everything.VisualMask, row).Should().Be(0);
            Real(everything.AttentionMask, row).Should().Be(2, "only the special tokens stay");
        }
    }

    [Fact]
    public void Whole_modalities_never_leave_a_sample_with_nothing_unless_asked()
    {
        var ids = Enumerable.Range(0, 40).ToArray();
        using var batch = Batch(0, 1, 2, 3);
        int keptOneStream = 0, droppedEverything = 0;
        foreach (int seed in ids)
        {
            using var masked = new MissingModalities { Rate = 0.9, WholeModalities = true, IncludeText = true, Seed = seed }.Apply(batch);
            using var allowed = new MissingModalities { Rate = 0.9, WholeModalities = true, IncludeText = true, Seed = seed, MayMaskWholeSample = true }.Apply(batch);
            for (int row = 0; row < 4; row++)
            {
                bool text = Real(masked.AttentionMask, row) > 2, acoustic = Real(masked.AcousticMask, row) > 0, visual = Real(masked.VisualMask, row) > 0;
                (text || acoustic || visual).Should().BeTrue($"seed {seed}, row {row} keeps a stream");
                // A stream is kept whole or dropped whole.
                (Real(masked.AcousticMask, row) is 0 || Real(masked.AcousticMask, row) == AcousticLengths[row]).Should().BeTrue();
                if (new[] { text, acoustic, visual }.Count(k => k) == 1) keptOneStream++;
                if (Real(allowed.AttentionMask, row) == 2 && Real(allowed.AcousticMask, row) == 0 && Real(allowed.VisualMask, row) == 0) droppedEverything++;
            }
        }
        keptOneStream.Should().BeGreaterThan(0);
        droppedEverything.Should().BeGreaterThan(0, "asked to, some samples lose every stream (0.9³ of them)");
    }

    [Fact]
    public void Rate_zero_changes_nothing_and_a_rate_outside_0_1_is_named()
    {
        using var batch = Batch(0, 1, 2, 3);
        using var same = new MissingModalities { Rate = 0, IncludeText = true }.Apply(batch);
        same.AcousticMask.equal(batch.AcousticMask).all().item<bool>().Should().BeTrue();
        same.VisualMask.equal(batch.VisualMask).all().item<bool>().Should().BeTrue();
        same.AttentionMask.equal(batch.AttentionMask).all().item<bool>().Should().BeTrue();

        var act = () => new MissingModalities { Rate = 1.5 }.Apply(batch);
        act.Should().Throw<InvalidConfigurationException>().Which.Problems.Single().Path.Should().Be("Rate");
    }

    [Fact]
    public void A_loader_with_missing_modalities_serves_the_masked_batches()
    {
        var samples = Enumerable.Range(0, 5).Select(i => new MultimodalSample($"s{i}", null, [101, 7, 8, 9, 102], new float[6, 3], new float[4, 2], i)).ToList();
        var loader = new MultimodalDataLoader(samples, new MultimodalCollator(), batchSize: 2);
        var missing = new MissingModalities { Rate = 0.5, Seed = 3 };
        var masked = loader.WithMissingModalities(missing);

        masked.Missing.Should().Be(missing);
        masked.BatchCount.Should().Be(loader.BatchCount);
        foreach (var (plain, served) in loader.Epoch(0).Zip(masked.Epoch(0)))
        {
            using (plain)
            using (served)
            using (var expected = missing.Apply(plain))
            {
                served.AcousticMask.equal(expected.AcousticMask).all().item<bool>().Should().BeTrue();
                served.VisualMask.equal(expected.VisualMask).all().item<bool>().Should().BeTrue();
                served.AcousticMask.sum().item<long>().Should().Be(plain.Size * 3, "half of each sample's 6 acoustic frames are masked");
            }
        }
    }
}
