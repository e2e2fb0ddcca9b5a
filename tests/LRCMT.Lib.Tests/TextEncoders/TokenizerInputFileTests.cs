using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using FluentAssertions;
using LRCMT.Errors;
using LRCMT.IO;
using LRCMT.TextEncoders;
using Xunit;

namespace LRCMT.Tests.TextEncoders;

/// <summary>
/// Tokenizer files are read through <see cref="InputFile"/>: regular files only (FIFOs refused without blocking,
/// devices, directories and link loops refused), bounded per kind, strict UTF-8; and tokenizer.json validation errors
/// name the JSON path.
/// </summary>
public sealed class TokenizerInputFileTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("lrcmt-input-file-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static string CasedJson => Path.Combine(TokenizerReference.Folder, "bert-cased", "tokenizer.json");

    [Fact]
    public async Task A_fifo_in_place_of_a_tokenizer_file_is_refused_without_waiting_for_a_writer()
    {
        SkipUnlessLinux();
        var fifo = Path.Combine(folder, "tokenizer.json");
        mkfifo(fifo, 0x1B6).Should().Be(0);

        var load = Task.Run(() => BertTextTokenizer.FromTokenizerJson(fifo), TestContext.Current.CancellationToken);
        var finished = await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        finished.Should().BeSameAs(load, "opening a FIFO must not block");
        var act = () => load;
        (await act.Should().ThrowAsync<InputFileException>()).WithMessage("*FIFO*");
        var vocab = () => BertTextTokenizer.FromVocabFile(fifo);
        vocab.Should().Throw<InputFileException>().WithMessage("*FIFO*");
    }

    [Fact]
    public void A_link_to_an_endless_device_is_refused_before_anything_is_read()
    {
        SkipUnlessLinux();
        var link = Path.Combine(folder, "tokenizer.json");
        File.CreateSymbolicLink(link, "/dev/zero");

        var act = () => BertTextTokenizer.FromFolder(folder);

        act.Should().Throw<InputFileException>().WithMessage("*character device*not a regular file*");
    }

    [Fact]
    public void A_symbolic_link_loop_is_refused_and_not_mistaken_for_a_missing_file()
    {
        SkipUnlessLinux();
        File.Copy(Path.Combine(TokenizerReference.Folder, "vocab-cased.txt"), Path.Combine(folder, "vocab.txt"));
        File.CreateSymbolicLink(Path.Combine(folder, "tokenizer.json"), Path.Combine(folder, "loop.json"));
        File.CreateSymbolicLink(Path.Combine(folder, "loop.json"), Path.Combine(folder, "tokenizer.json"));

        // A folder loader that took the looping tokenizer.json for an absent one would silently use vocab.txt instead.
        var act = () => BertTextTokenizer.FromFolder(folder);

        act.Should().Throw<InputFileException>().WithMessage("*loop of symbolic links*");
    }

    [Fact]
    public void A_directory_in_place_of_a_file_is_refused()
    {
        var directory = Directory.CreateDirectory(Path.Combine(folder, "tokenizer.json")).FullName;

        var act = () => BertTextTokenizer.FromTokenizerJson(directory);

        act.Should().Throw<InputFileException>().WithMessage("*directory*");
    }

    [Fact]
    public void A_path_with_a_nul_character_is_refused_rather_than_cut_short()
    {
        File.Copy(CasedJson, Path.Combine(folder, "tokenizer.json"));

        var act = () => BertTextTokenizer.FromTokenizerJson(Path.Combine(folder, "tokenizer.json") + "\0.bak");

        act.Should().Throw<ArgumentException>().WithMessage("*NUL*");
    }

    [Fact]
    public void A_link_to_a_regular_file_loads_as_the_file_does()
    {
        // Hugging Face's cache keeps files as links into a blobs folder.
        File.CreateSymbolicLink(Path.Combine(folder, "tokenizer.json"), CasedJson);

        var linked = BertTextTokenizer.FromFolder(folder);

        linked.Encode("Links are fine.", 32).Should().Equal(BertTextTokenizer.FromTokenizerJson(CasedJson).Encode("Links are fine.", 32));
    }

    [Fact]
    public void A_file_over_its_kind_s_limit_is_refused_naming_the_variable_that_raises_it()
    {
        var variable = InputFile.LimitVariable(InputKind.TokenizerJson);
        variable.Should().Be("LRCMT_INPUT_LIMIT_TOKENIZER_JSON", "docs/reliability.md names it");
        try
        {
            Environment.SetEnvironmentVariable(variable, "1000");
            var act = () => BertTextTokenizer.FromTokenizerJson(CasedJson);
            act.Should().Throw<InputFileException>().WithMessage($"*at most 1,000*{variable}*");

            Environment.SetEnvironmentVariable(variable, "lots");
            act.Should().Throw<InputFileException>().WithMessage($"*{variable}='lots'*");

            Environment.SetEnvironmentVariable(variable, "100000000");
            act.Should().NotThrow();
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void A_stream_over_the_vocabulary_limit_is_refused_while_it_is_read()
    {
        using var endless = new EndlessStream();

        var act = () => BertTextTokenizer.FromVocabStream(endless);

        act.Should().Throw<InputFileException>().WithMessage("*LRCMT_INPUT_LIMIT_VOCABULARY*");
        endless.Served.Should().BeLessThanOrEqualTo(InputFile.DefaultLimit(InputKind.Vocabulary) + 81920);
    }

    [Fact]
    public void Invalid_utf8_is_refused_with_its_byte_offset_as_hugging_face_refuses_it()
    {
        var bytes = Encoding.UTF8.GetBytes("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nok\n").Concat(new byte[] { 0x66, 0xC3, 0x28 }).ToArray();
        var path = Path.Combine(folder, "vocab.txt");
        File.WriteAllBytes(path, bytes);

        var act = () => BertTextTokenizer.FromVocabFile(path);

        act.Should().Throw<CorruptFileException>().Which.Offset.Should().Be(bytes.Length - 2);
    }

    [Theory]
    [InlineData("added_tokens", "'tokenizer.added_tokens[2].id' is 5000")]
    [InlineData("template", "'tokenizer.post_processor.special_tokens.[CLS].ids[0]' is -3")]
    [InlineData("pad_id", "'tokenizer.padding.pad_id' is 3273")]
    [InlineData("type_id", "'tokenizer.post_processor.single[1].Sequence.type_id' is 4096")]
    [InlineData("duplicate", "*has id 7, which '[CLS]' already has*")]
    public void A_lying_id_is_refused_naming_its_json_path(string where, string message)
    {
        var root = JsonNode.Parse(File.ReadAllText(CasedJson))!;
        switch (where)
        {
            case "added_tokens": root["added_tokens"]![2]!["id"] = 5000; break;
            case "template": root["post_processor"]!["special_tokens"]!["[CLS]"]!["ids"]![0] = -3; break;
            case "pad_id": root["padding"] = new JsonObject { ["strategy"] = "BatchLongest", ["pad_id"] = 3273 }; break;
            case "type_id": root["post_processor"]!["single"]![1]!["Sequence"]!["type_id"] = 4096; break;
            default: root["model"]!["vocab"]!["hello"] = 7; break;
        }

        var path = Path.Combine(folder, "tokenizer.json");
        File.WriteAllText(path, root.ToJsonString());

        var act = () => BertTextTokenizer.FromTokenizerJson(path);

        act.Should().Throw<CorruptFileException>().WithMessage(message.StartsWith('*') ? message : "*" + message + "*");
    }

    private static void SkipUnlessLinux()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("FIFOs, devices and link loops are checked with Linux's statx.");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(string path, int mode);

    private sealed class EndlessStream : Stream
    {
        public long Served { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Served; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            buffer.AsSpan(offset, count).Fill((byte)'a');
            Served += count;
            return count;
        }

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
