using FluentAssertions;
using LRCMT.Data.Mmsa;
using LRCMT.Errors;
using Xunit;
using LRCMT.Formats.Pickle;

namespace LRCMT.Tests.Fuzz;

/// <summary>Regression tests for pickles that used to kill the process or allocate what the file claimed.</summary>
public sealed class HostilePickleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("lrcmt-hostile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>[[[...]]] 100,000 deep, as CPython pickles it: every list pushed, then appended from the inside out.</summary>
    private static byte[] DeepList(int depth)
    {
        var p = new PickleBuilder().Proto(4);
        for (int i = 0; i < depth; i++) p.EmptyList();
        for (int i = 0; i < depth - 1; i++) p.Append();
        return p.Stop().ToArray();
    }

    /// <summary>The same depth reached with a bounded stack: each new list is appended to the previous one fetched from the memo.</summary>
    private static byte[] DeepListThroughMemo(int depth)
    {
        var p = new PickleBuilder().Proto(4).EmptyList().Memoize();
        for (int i = 1; i < depth; i++) p.Get(i - 1).EmptyList().Memoize().Append().Pop();
        return p.Stop().ToArray();
    }

    [Fact]
    public void A_list_nested_100000_deep_is_a_typed_error_naming_the_depth_not_a_stack_overflow()
    {
        var load = () => SafePickle.Load(DeepList(100_000), "deep.pkl");

        load.Should().Throw<CorruptFileException>().Which.Message.Should().Contain("deep.pkl").And.Contain("1000 levels");
    }

    [Fact]
    public void Depth_built_through_the_memo_is_refused_too()
    {
        var load = () => SafePickle.Load(DeepListThroughMemo(100_000), "memo-deep.pkl");

        load.Should().Throw<CorruptFileException>().WithMessage("*levels deep*");
    }

    [Fact]
    public void Nesting_within_the_limit_still_loads_iteratively()
    {
        var root = SafePickle.Load(DeepList(PlainObjectConverter.MaxDepth), "ok.pkl");

        int depth = 0;
        for (var list = root as List<object?>; list is not null; list = list.Count > 0 ? list[0] as List<object?> : null) depth++;
        depth.Should().Be(PlainObjectConverter.MaxDepth);
    }

    [Fact]
    public void Append_onto_none_is_a_corrupt_file_not_a_null_reference_from_the_unpickler()
    {
        var bytes = new PickleBuilder().Proto(4).None().Int(1).Append().Stop().ToArray();

        var load = () => SafePickle.Load(bytes, "append.pkl");

        load.Should().Throw<CorruptFileException>().WithMessage("append.pkl*");
    }

    public static TheoryData<string, byte[]> OpcodesOnNone() => new()
    {
        { "REDUCE", new PickleBuilder().Proto(4).None().EmptyTuple().Reduce().Stop().ToArray() },
        { "REDUCE", new PickleBuilder().Proto(2).Global("numpy", "dtype").None().Reduce().Stop().ToArray() },
        { "BUILD", new PickleBuilder().Proto(4).None().EmptyDict().Build().Stop().ToArray() },
        { "APPEND", new PickleBuilder().Proto(4).None().Int(1).Append().Stop().ToArray() },
        { "APPENDS", new PickleBuilder().Proto(4).None().Mark().Int(1).Appends().Stop().ToArray() },
        { "SETITEM", new PickleBuilder().Proto(4).None().Int(1).Int(2).SetItem().Stop().ToArray() },
        { "SETITEMS", new PickleBuilder().Proto(4).None().Memoize().Pop().Get(0).Mark().Int(1).Int(2).SetItems().Stop().ToArray() },
    };

    [Theory]
    [MemberData(nameof(OpcodesOnNone))]
    public void An_opcode_applied_to_none_is_named_with_its_offset_not_a_dotnet_null_reference(string opcode, byte[] bytes)
    {
        var load = () => SafePickle.Load(bytes, "none.pkl");

        var message = load.Should().Throw<CorruptFileException>().Which.Message;
        message.Should().Contain("none.pkl").And.Contain(opcode).And.Contain("None").And.Contain("at byte");
        message.Should().NotContain("Object reference");
    }

    [Fact]
    public void A_self_referencing_list_stays_a_cycle()
    {
        var bytes = new PickleBuilder().Proto(4).EmptyList().Memoize().Get(0).Append().Stop().ToArray();

        var list = (List<object?>)SafePickle.Load(bytes)!;

        list.Should().ContainSingle().Which.Should().BeSameAs(list);
    }

    [Fact]
    public void The_deep_list_through_mmsa_loading_is_a_typed_error()
    {
        string path = Path.Combine(_folder, "deep.pkl");
        File.WriteAllBytes(path, DeepList(100_000));

        var load = () => MmsaFeatureFile.Load(path);

        load.Should().Throw<CorruptFileException>().Which.Path.Should().Be(path);
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MaxValue - 3)]
    [InlineData(1L << 40)]
    public void A_bytes8_length_past_the_file_is_a_typed_error(long length)
    {
        var bytes = new PickleBuilder().Proto(4).Op(0x8e).Int64(length).Raw("abc"u8).Stop().ToArray();
        string path = Path.Combine(_folder, "bytes8.pkl");
        File.WriteAllBytes(path, bytes);

        var fromFile = () => SafePickle.Load(path);
        var fromMemory = () => SafePickle.Load(bytes, "bytes8");

        fromFile.Should().Throw<CorruptFileException>().WithMessage("*past the end*");
        fromMemory.Should().Throw<CorruptFileException>().WithMessage("*past the end*");
    }

    [Fact]
    public void A_zero_width_string_array_claiming_a_billion_elements_is_refused_before_allocating()
    {
        var bytes = new PickleBuilder().Proto(2).Array("U0", [1_000_000_000], []).Stop().ToArray();

        var load = () => SafePickle.Load(bytes, "u0.pkl");

        load.Should().Throw<CorruptFileException>().WithMessage("*1000000000 elements of zero bytes*");
    }

    [Theory]
    [InlineData(new long[] { 1L << 62, 1L << 62 })]        // 2^124 elements
    [InlineData(new long[] { 1L << 61, 8 })]                 // 2^64 elements: wraps to 0 unchecked
    [InlineData(new long[] { -1, 4 })]
    public void Shapes_whose_element_count_overflows_or_is_negative_are_refused(long[] shape)
    {
        var bytes = new PickleBuilder().Proto(2).Array("f4", shape, []).Stop().ToArray();

        var load = () => SafePickle.Load(bytes, "shape.pkl");

        load.Should().Throw<CorruptFileException>().WithMessage("*shape*");
    }

    [Fact]
    public void An_element_size_past_the_bound_is_refused()
    {
        var bytes = new PickleBuilder().Proto(2).Array("U99999999", [1], []).Stop().ToArray();

        var load = () => SafePickle.Load(bytes, "wide.pkl");

        load.Should().Throw<CorruptFileException>();
    }

    [Fact]
    public void Mmsa_nan_labels_are_refused_with_split_key_and_index()
    {
        string path = Path.Combine(_folder, "nan.pkl");
        File.WriteAllBytes(path, MmsaPickleGenerator.Write(labels: [0.5f, float.NaN, 1f]));

        var load = () => MmsaFeatureFile.Load(path);

        load.Should().Throw<CorruptFileException>().WithMessage("*train.regression_labels*NaN*index 1*");
    }

    [Fact]
    public void Mmsa_string_labels_are_a_typed_error()
    {
        string path = Path.Combine(_folder, "strings.pkl");
        File.WriteAllBytes(path, MmsaPickleGenerator.Write(trainLabels: p => p.Strings(["a", "b", "c"], 1)));

        var load = () => MmsaFeatureFile.Load(path);

        load.Should().Throw<CorruptFileException>().WithMessage("*train.regression_labels*");
    }

    [Fact]
    public void The_generated_mmsa_file_loads_so_the_lies_above_are_what_fails()
    {
        string path = Path.Combine(_folder, "good.pkl");
        File.WriteAllBytes(path, MmsaPickleGenerator.Write());

        var file = MmsaFeatureFile.Load(path);

        file.Train.Samples.Should().HaveCount(MmsaPickleGenerator.Samples);
        file.AcousticDim.Should().Be(MmsaPickleGenerator.Acoustic);
        file.Train.Samples.Select(s => s.Label).Should().Equal(-1f, 0f, 1f);
    }
}
