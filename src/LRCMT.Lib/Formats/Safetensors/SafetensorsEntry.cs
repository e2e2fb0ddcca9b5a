using static TorchSharp.torch;

namespace LRCMT.Formats.Safetensors;

/// <summary>One tensor as described by a safetensors header (no data read).</summary>
/// <param name="Name">The key.</param>
/// <param name="DType">The element type.</param>
/// <param name="Shape">The shape.</param>
/// <param name="Begin">Start of the tensor's bytes, relative to the data section.</param>
/// <param name="End">End (exclusive) of the tensor's bytes, relative to the data section.</param>
internal sealed record SafetensorsEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

/// <summary>The parsed header of a safetensors file.</summary>
/// <param name="Path">The file.</param>
/// <param name="DataStart">Absolute offset of the data section (8 + header length).</param>
/// <param name="Entries">Tensors by name, in file order.</param>
/// <param name="Metadata">The optional <c>__metadata__</c> string map.</param>
internal sealed record SafetensorsHeader(
    string Path,
    long DataStart,
    IReadOnlyDictionary<string, SafetensorsEntry> Entries,
    IReadOnlyDictionary<string, string> Metadata);
