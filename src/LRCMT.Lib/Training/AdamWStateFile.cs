using LRCMT.Errors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Training;

/// <summary>
/// TorchSharp's optimizer-state stream (<c>Optimizer.save_state_dict</c>) written under the type name <c>AdamW</c>, so
/// files of <see cref="LeanAdamW"/> and of TorchSharp's AdamW load into either. The layout is TorchSharp's: the type
/// name as a .NET string, the number of parameter groups and of parameter states as unsigned LEB128, then each
/// group's options and each parameter's state as their own <c>SaveStateDict</c> writes them.
/// </summary>
internal static class AdamWStateFile
{
    /// <summary>The name TorchSharp's AdamW writes and expects.</summary>
    public const string TypeName = nameof(AdamW);

    public static void Save(OptimizerHelper optimizer, BinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var state = optimizer.state_dict();
        writer.Write(TypeName);
        WriteCount(writer, state.Options.Count);
        WriteCount(writer, state.State.Count);
        foreach (var options in state.Options) options.SaveStateDict(writer);
        foreach (var parameter in state.State) parameter.SaveStateDict(writer);
    }

    /// <exception cref="CorruptFileException">The stream holds another optimizer's state, or other group or parameter counts.</exception>
    public static void Load(OptimizerHelper optimizer, BinaryReader reader, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(reader);
        try
        {
            Read(optimizer, reader, sourceName);
        }
        catch (EndOfStreamException e)
        {
            throw new CorruptFileException(sourceName, null, "the optimizer state ends early", e);
        }
    }

    private static void Read(OptimizerHelper optimizer, BinaryReader reader, string sourceName)
    {
        var name = reader.ReadString();
        if (name is not (TypeName or nameof(LeanAdamW)))
            throw new CorruptFileException(sourceName, null, $"it holds the state of a {name} optimizer, not of AdamW");
        var state = optimizer.state_dict();
        long groups = ReadCount(reader, sourceName), parameters = ReadCount(reader, sourceName);
        if (groups != state.Options.Count || parameters != state.State.Count)
            throw new CorruptFileException(sourceName, null,
                $"it holds {groups} parameter groups with {parameters} parameters; this optimizer has {state.Options.Count} with {state.State.Count}");
        foreach (var options in state.Options) options.LoadStateDict(reader);
        foreach (var parameter in state.State) parameter.LoadStateDict(reader);
    }

    private static void WriteCount(BinaryWriter writer, long value)
    {
        do
        {
            byte low = (byte)(value & 0x7f);
            value >>= 7;
            writer.Write(value == 0 ? low : (byte)(low | 0x80));
        } while (value != 0);
    }

    private static long ReadCount(BinaryReader reader, string sourceName)
    {
        long value = 0;
        for (int shift = 0; shift < 63; shift += 7)
        {
            byte next = reader.ReadByte();
            value |= (long)(next & 0x7f) << shift;
            if ((next & 0x80) == 0) return value;
        }
        throw new CorruptFileException(sourceName, null, "a count in the optimizer state is longer than 9 bytes");
    }
}
