namespace LRCMT.Models;

/// <summary>What the prediction head outputs.</summary>
public enum HeadKind
{
    /// <summary>One sentiment score per sample: the model returns [batch].</summary>
    Regression,

    /// <summary>Class logits: the model returns [batch, classes].</summary>
    Classification,
}
