using LRCMT.Cli.Encoders;
using LRCMT.Cli.Settings;
using LRCMT.Configuration;

namespace LRCMT.Cli.Commands;

/// <summary>
/// Cheap checks run before anything is loaded or written, so a wrong path fails in a second with a message that
/// names the file, rather than minutes later or with a half-created output folder.
/// </summary>
internal static class Preflight
{
    /// <summary>The data file exists and looks like an MMSA pickle.</summary>
    internal static void CheckData(DataSettings data)
    {
        if (data.IsControlled) return;
        string path = Path.GetFullPath(data.Source);
        if (Directory.Exists(path))
            throw new CliException(ExitCodes.DataError, $"The data path '{path}' is a folder; give an MMSA features file such as aligned_50.pkl.");
        if (!File.Exists(path))
            throw new CliException(ExitCodes.DataError, $"The data file '{path}' does not exist (use --data controlled for the built-in benchmark).");
        // Regular files only: a FIFO would block the open, a device would stream forever.
        using var stream = OpenData(path);
        // Every pickle of protocol 2 or later starts with the PROTO opcode 0x80.
        if (stream.ReadByte() != 0x80)
            throw new CliException(ExitCodes.DataError, $"The data file '{path}' is not a pickle (protocol 2 or later); MMSA features files are.");
    }

    private static FileStream OpenData(string path)
    {
        try
        {
            return IO.InputFile.OpenRead(path);
        }
        catch (Errors.InputFileException e)
        {
            throw new CliException(ExitCodes.DataError, $"The data file cannot be read: {e.Message}", e);
        }
    }

    /// <summary>CUDA is asked for only where libtorch has it.</summary>
    internal static void CheckDevice(string device)
    {
        if (device == "cuda" && !TorchSharp.torch.cuda.is_available())
            throw new CliException(ExitCodes.ConfigurationError,
                "--device cuda needs a CUDA build of libtorch and a GPU: run from the repository with -p:TorchBackend=cuda-linux (or cuda-windows).");
    }

    /// <summary>An encoder folder holds a configuration, a vocabulary and weights; an ONNX export has its vocabulary beside it.</summary>
    internal static void CheckEncoder(TextEncoderOptions encoder)
    {
        if (EncoderLoader.IsMiniLm(encoder)) return;
        if (!string.IsNullOrWhiteSpace(encoder.OnnxFile))
        {
            string onnx = Path.GetFullPath(encoder.OnnxFile);
            if (!File.Exists(onnx))
                throw new CliException(ExitCodes.EncoderError, $"The encoder file '{onnx}' does not exist (use --encoder minilm for the packaged MiniLM).");
            if (!File.Exists(Path.Combine(Path.GetDirectoryName(onnx)!, "vocab.txt")))
                throw new CliException(ExitCodes.EncoderError, $"The ONNX encoder '{onnx}' has no vocab.txt beside it.");
            return;
        }
        string folder = Path.GetFullPath(encoder.PretrainedFolder!);
        if (!Directory.Exists(folder))
            throw new CliException(ExitCodes.EncoderError, $"The encoder folder '{folder}' does not exist (use --encoder minilm for the packaged MiniLM).");
        var missing = new List<string>();
        if (!File.Exists(Path.Combine(folder, "config.json"))) missing.Add("config.json");
        if (!File.Exists(Path.Combine(folder, "tokenizer.json")) && !File.Exists(Path.Combine(folder, "vocab.txt")))
            missing.Add("tokenizer.json or vocab.txt");
        if (!File.Exists(Path.Combine(folder, "model.safetensors")) && !File.Exists(Path.Combine(folder, "pytorch_model.bin")))
            missing.Add("model.safetensors or pytorch_model.bin (the weights)");
        if (missing.Count > 0)
            throw new CliException(ExitCodes.EncoderError, $"The encoder folder '{folder}' lacks {string.Join(", ", missing)}.");
    }
}
