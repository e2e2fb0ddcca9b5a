using System.Text;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.Tests.TestSupport;
using Xunit;
using LRCMT.Formats.Pickle;

namespace LRCMT.Tests.Formats;

public class SafePickleTests
{
    public static TheoryData<string> NumpyPickles() => new("numpy1_protocol2.pkl", "numpy1_protocol4.pkl", "numpy2_protocol5.pkl");

    [Theory]
    [MemberData(nameof(NumpyPickles))]
    public void Numpy_arrays_scalars_and_tuples_are_rebuilt_for_every_protocol(string file)
    {
        var root = (Dictionary<object, object?>)SafePickle.Load(Fixtures.File("pickle", file))!;

        AssertSampleContent(root);
    }

    [Fact]
    public void Protocol5_out_of_band_buffers_are_used_in_order()
    {
        var buffers = new List<ReadOnlyMemory<byte>>();
        var raw = File.ReadAllBytes(Fixtures.File("pickle", "numpy2_protocol5_out_of_band.buffers"));
        for (int at = 0; at < raw.Length;)
        {
            int length = BitConverter.ToInt32(raw, at);
            buffers.Add(raw.AsMemory(at + 4, length));
            at += 4 + length;
        }

        var root = (Dictionary<object, object?>)SafePickle.Load(Fixtures.File("pickle", "numpy2_protocol5_out_of_band.pkl"), buffers)!;

        AssertSampleContent(root);
    }

    [Fact]
    public void Out_of_band_pickle_without_its_buffers_is_a_corrupt_file_error()
    {
        var load = () => SafePickle.Load(Fixtures.File("pickle", "numpy2_protocol5_out_of_band.pkl"));

        load.Should().Throw<CorruptFileException>().WithMessage("*out-of-band buffer #1*");
    }

    [Fact]
    public void Bytes_too_large_for_an_array_are_omitted_and_the_rest_still_loads()
    {
        // The real limit is ~2 GB (MOSEI's BERT "text" features); a 100 kB limit lets the MMSA fixture show it: its
        // train "text" is 921,600 bytes, "audio" 6,000.
        var root = (Dictionary<object, object?>)SafePickle.Load(Fixtures.MmsaPickle, maxInlineBytes: 100_000)!;
        var train = (Dictionary<object, object?>)root["train"]!;
        var text = (NdArray)train["text"]!;
        var audio = (NdArray)train["audio"]!;

        text.IsOmitted.Should().BeTrue();
        text.Shape.Should().Equal(6, 50, 768);
        text.Invoking(t => t.ToSingleArray()).Should().Throw<InvalidOperationException>().WithMessage("*not read*");
        audio.IsOmitted.Should().BeFalse();
        audio.ToSingleArray().Should().HaveCount(6 * 50 * 5);
        ((NdArray)train["regression_labels"]!).ToSingleArray().Should().HaveCount(6);
    }

    private static void AssertSampleContent(Dictionary<object, object?> root)
    {
        // Values written by make_numpy_like_pickles.py.
        var f32 = (NdArray)root["f32"]!;
        f32.Shape.Should().Equal(2, 3);
        f32.DType.Should().Be("float32");
        f32.ToSingleArray().Should().Equal(1, 2, 3, 4, 5, 6);
        ((NdArray)root["fortran"]!).ToSingleArray().Should().Equal(1, 2, 3, 4, 5, 6);
        ((NdArray)root["i64"]!).ToInt64Array().Should().Equal(-1, 0, 1L << 40);
        ((NdArray)root["f64_big_endian"]!).Data.Should().BeEquivalentTo(new[] { 0.5, -2.25 });
        ((NdArray)root["bool"]!).Data.Should().BeEquivalentTo(new[] { true, false, true });
        ((NdArray)root["unicode"]!).ToStringArray().Should().Equal("ab", "xyz");
        ((NdArray)root["objects"]!).ToStringArray().Should().Equal("plain", "accentué");
        root["scalar"].Should().Be(0.25);
        ((object?[])root["tuple"]!).Should().Equal(1, "two", 3.0, null, true);
    }

    [Fact]
    public void Protocol0_text_pickle_of_plain_values_loads()
    {
        // pickle.dumps({'a': [1, 2.5, 'x']}, protocol=0)
        var root = (Dictionary<object, object?>)SafePickle.Load(Ascii("(dp0\nVa\np1\n(lp2\nI1\naF2.5\naVx\np3\nas."))!;

        ((List<object?>)root["a"]!).Should().Equal(1, 2.5, "x");
    }

    [Fact]
    public void Reduce_calling_os_system_is_refused_and_never_runs()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"lrcmt-pickle-marker-{Guid.NewGuid():N}");
        // What pickle.dumps(obj, protocol=2) writes for an obj whose __reduce__ returns (os.system, ("touch <marker>",)):
        // PROTO 2, GLOBAL 'posix system', BINUNICODE command, TUPLE1, REDUCE, STOP.
        byte[] pickle = [0x80, 2, .. Ascii("cposix\nsystem\n"), .. BinUnicode($"touch {marker}"), 0x85, (byte)'R', (byte)'.'];

        var load = () => SafePickle.Load(pickle, "evil.pkl");

        load.Should().Throw<UnsafePickleException>()
            .Where(e => e.Global == "posix.system" && e.Offset == 2)
            .WithMessage("evil.pkl*posix.system*");
        File.Exists(marker).Should().BeFalse();
    }

    [Fact]
    public void Stack_global_built_from_memoized_strings_is_resolved_and_refused()
    {
        // Protocol 4: "numpy" is memoized, then "builtins"/"eval" come back from the memo; the walk must follow the memo.
        byte[] pickle =
        [
            0x80, 4,
            .. ShortUnicode("builtins"), 0x94, // memo 0
            .. ShortUnicode("eval"), 0x94,     // memo 1
            (byte)'0', (byte)'0',              // POP both
            (byte)'h', 0, (byte)'h', 1, 0x93,  // BINGET 0, BINGET 1, STACK_GLOBAL
            .. ShortUnicode("1+1"), 0x85, (byte)'R', (byte)'.',
        ];

        var load = () => SafePickle.Load(pickle);

        load.Should().Throw<UnsafePickleException>().Where(e => e.Global == "builtins.eval");
    }

    [Fact]
    public void Stack_global_with_a_computed_name_is_refused()
    {
        // The module name is the result of a call (a tuple here), not a literal string.
        byte[] pickle = [0x80, 4, (byte)')', .. ShortUnicode("system"), 0x93, (byte)'.'];

        var load = () => SafePickle.Load(pickle);

        load.Should().Throw<UnsafePickleException>().WithMessage("*not a literal string*");
    }

    [Fact]
    public void Inst_opcode_naming_a_class_is_refused()
    {
        byte[] pickle = [(byte)'(', .. Ascii("isubprocess\nPopen\n"), (byte)'.'];

        var load = () => SafePickle.Load(pickle);

        load.Should().Throw<UnsafePickleException>().Where(e => e.Global == "subprocess.Popen");
    }

    [Fact]
    public void Truncated_pickle_names_the_source_and_offset()
    {
        var whole = File.ReadAllBytes(Fixtures.File("pickle", "numpy1_protocol4.pkl"));

        var load = () => SafePickle.Load(whole[..(whole.Length / 2)], "half.pkl");

        load.Should().Throw<CorruptFileException>().Where(e => e.Path == "half.pkl" && e.Offset != null).WithMessage("*truncated*");
    }

    [Fact]
    public void Text_file_is_reported_as_not_a_pickle()
    {
        var load = () => SafePickle.Load(Encoding.ASCII.GetBytes("hello world"), "notes.txt");

        load.Should().Throw<CorruptFileException>().WithMessage("notes.txt*probably not a pickle*");
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    private static byte[] BinUnicode(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        return [(byte)'X', .. BitConverter.GetBytes(utf8.Length), .. utf8];
    }

    private static byte[] ShortUnicode(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        return [0x8c, (byte)utf8.Length, .. utf8];
    }
}
