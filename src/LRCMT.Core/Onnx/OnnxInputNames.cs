namespace LRCMT.Onnx;

/// <summary>
/// The input and output names of the ONNX files LRCMT exports (Hugging Face's names for the text inputs). Every mask
/// is int64 with 1 for a real position and 0 for padding, as the models' <c>MultimodalBatch</c> masks.
/// </summary>
public static class OnnxInputNames
{
    /// <summary>Token ids [batch, text_length], int64.</summary>
    public const string InputIds = "input_ids";

    /// <summary>Text mask [batch, text_length], int64.</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>Segment ids [batch, text_length], int64 (all 0 for one sentence).</summary>
    public const string TokenTypeIds = "token_type_ids";

    /// <summary>Acoustic features [batch, acoustic_length, features], float32.</summary>
    public const string Acoustic = "acoustic";

    /// <summary>Acoustic mask [batch, acoustic_length], int64.</summary>
    public const string AcousticMask = "acoustic_mask";

    /// <summary>Visual features [batch, visual_length, features], float32.</summary>
    public const string Visual = "visual";

    /// <summary>Visual mask [batch, visual_length], int64.</summary>
    public const string VisualMask = "visual_mask";

    /// <summary>An LRCMT model's output: [batch] scores (regression) or [batch, classes] logits (classification).</summary>
    public const string Prediction = "prediction";

    /// <summary>A text encoder's token states [batch, text_length, hidden].</summary>
    public const string LastHiddenState = "last_hidden_state";

    /// <summary>A text encoder's pooled sentence vector [batch, hidden] (BERT's pooler), where the encoder has one.</summary>
    public const string PoolerOutput = "pooler_output";
}

/// <summary>One input or output of an exported model.</summary>
/// <param name="Name">The ONNX value name (<see cref="OnnxInputNames"/>).</param>
/// <param name="ElementType"><c>int64</c> or <c>float32</c>.</param>
/// <param name="Shape">Each dimension: a name for a dynamic axis (<c>batch</c>, <c>text_length</c>, …) or a fixed size.</param>
/// <param name="Meaning">What the values are, in words.</param>
public sealed record OnnxTensorInfo(string Name, string ElementType, IReadOnlyList<string> Shape, string Meaning);
