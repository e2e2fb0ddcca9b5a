using System.Text.Json;
using FluentAssertions;
using LRCMT.Data.Mmsa;
using LRCMT.Errors;
using LRCMT.Tests.TestSupport;
using Xunit;
using LRCMT.Formats.Pickle;

namespace LRCMT.Tests.Data;

public class MmsaFeatureFileTests
{
    private static readonly JsonElement Summary = JsonDocument.Parse(File.ReadAllText(Fixtures.MmsaSummary)).RootElement;

    public static TheoryData<string> Splits() => new("train", "valid", "test");

    [Theory]
    [MemberData(nameof(Splits))]
    public void Counts_labels_ids_text_and_lengths_match_the_summary(string name)
    {
        var expected = Summary.GetProperty("splits").GetProperty(name);

        var split = MmsaFeatureFile.Load(Fixtures.MmsaPickle).Splits[name];

        split.Samples.Should().HaveCount(expected.GetProperty("n").GetInt32());
        split.Samples.Select(s => s.Label).Should().Equal(expected.GetProperty("regression_labels").EnumerateArray().Select(e => (float)e.GetDouble()));
        split.Samples[0].Id.Should().Be(expected.GetProperty("id0").GetString());
        split.Samples[0].Text.Should().Be(expected.GetProperty("raw_text0").GetString());
        split.Samples.Select(s => s.Acoustic.GetLength(0)).Should().Equal(expected.GetProperty("audio_lengths").EnumerateArray().Select(e => e.GetInt32()));
        split.UnimodalLabels.Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(Splits))]
    public void Feature_sums_match_with_the_negative_infinity_cell_read_as_zero(string name)
    {
        var expected = Summary.GetProperty("splits").GetProperty(name);

        var file = MmsaFeatureFile.Load(Fixtures.MmsaPickle, new MmsaLoadOptions { TrimToLengths = false });
        var split = file.Splits[name];

        Sum(split.Samples.Select(s => s.Acoustic)).Should().BeApproximately(expected.GetProperty("audio_sum_without_neg_inf").GetDouble(), 1e-6);
        Sum(split.Samples.Select(s => s.Visual)).Should().BeApproximately(expected.GetProperty("vision_sum").GetDouble(), 1e-6);
        split.Samples.SelectMany(s => s.Acoustic.Cast<float>()).Should().OnlyContain(v => float.IsFinite(v));
        (file.AcousticDim, file.VisualDim).Should().Be((Summary.GetProperty("dims")[1].GetInt32(), Summary.GetProperty("dims")[2].GetInt32()));
        split.Samples.Should().OnlyContain(s => s.Acoustic.GetLength(0) == Summary.GetProperty("lens")[1].GetInt32());
    }

    [Fact]
    public void Text_features_are_read_by_the_pickle_reader_with_the_summarised_sum()
    {
        var root = (Dictionary<object, object?>)SafePickle.Load(Fixtures.MmsaPickle)!;
        var train = (Dictionary<object, object?>)root["train"]!;

        var text = (NdArray)train["text"]!;

        text.Shape.Should().Equal(6, 50, 768);
        text.ToSingleArray().Sum(v => (double)v).Should().BeApproximately(Summary.GetProperty("splits").GetProperty("train").GetProperty("text_sum").GetDouble(), 1e-5);
    }

    [Fact]
    public void Text_bert_ids_are_cut_to_their_mask_and_raw_text_mode_leaves_ids_empty()
    {
        var root = (Dictionary<object, object?>)SafePickle.Load(Fixtures.MmsaPickle)!;
        var textBert = (NdArray)((Dictionary<object, object?>)root["valid"]!)["text_bert"]!;
        var values = textBert.ToInt64Array();
        int length = (int)textBert.Shape[2];

        var withIds = MmsaFeatureFile.Load(Fixtures.MmsaPickle).Valid.Samples;
        var withText = MmsaFeatureFile.Load(Fixtures.MmsaPickle, new MmsaLoadOptions { TextSource = MmsaTextSource.RawText }).Valid.Samples;

        for (int i = 0; i < withIds.Count; i++)
        {
            int real = Enumerable.Range(0, length).Count(t => values[(i * 3 + 1) * length + t] == 1);
            withIds[i].TokenIds.Should().Equal(values.Skip(i * 3 * length).Take(real));
            withIds[i].TokenTypeIds.Should().Equal(values.Skip((i * 3 + 2) * length).Take(real));
            withText[i].TokenIds.Should().BeNull();
            withText[i].Text.Should().NotBeNullOrEmpty();
        }
    }

    [Fact]
    public void Truncated_file_is_reported_with_its_name()
    {
        var path = Path.Combine(Path.GetTempPath(), $"lrcmt-truncated-{Guid.NewGuid():N}.pkl");
        var whole = File.ReadAllBytes(Fixtures.MmsaPickle);
        File.WriteAllBytes(path, whole[..(whole.Length * 2 / 3)]);
        try
        {
            var load = () => MmsaFeatureFile.Load(path);

            load.Should().Throw<CorruptFileException>().Where(e => e.Path == path).WithMessage("*truncated*");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Pickle_without_mmsa_splits_names_what_is_missing()
    {
        // The numpy test pickle is a valid pickle but a dict of arrays, not {"train", "valid", "test"}.
        var load = () => MmsaFeatureFile.Load(Fixtures.File("pickle", "numpy1_protocol4.pkl"));

        load.Should().Throw<CorruptFileException>().WithMessage("*numpy1_protocol4.pkl*no 'train' split*");
    }

    private static double Sum(IEnumerable<float[,]> frames) => frames.SelectMany(f => f.Cast<float>()).Sum(v => (double)v);
}
