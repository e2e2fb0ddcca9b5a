namespace LRCMT.Models;

/// <summary>
/// Which pretrained text encoder a model was built on: where it was loaded from (a Hugging Face folder, an ONNX file,
/// or neither when it was given in code) and the SHA-256 of its weights before any tuning, so a saved model can
/// refuse a different base encoder.
/// </summary>
/// <param name="PretrainedFolder">The Hugging Face BERT folder it was loaded from, or null.</param>
/// <param name="OnnxFile">The ONNX export it was imported from, or null.</param>
/// <param name="WeightsSha256">
/// Lower-case hex SHA-256 over the untuned encoder's state dict: for every entry in ordinal key order, the UTF-8 key,
/// a 0 byte, the dtype name, a 0 byte, each dimension as a little-endian int64, then the raw little-endian element bytes.
/// </param>
public sealed record TextEncoderReference(string? PretrainedFolder, string? OnnxFile, string WeightsSha256);
