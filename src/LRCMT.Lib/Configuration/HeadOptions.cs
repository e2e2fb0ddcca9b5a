using LRCMT.Models;

namespace LRCMT.Configuration;

/// <summary>The prediction head.</summary>
/// <remarks>The rules (at least 2 classes, dropout in [0, 1)) are checked once, by the model architecture these options describe.</remarks>
public sealed record HeadOptions
{
    /// <summary>Regression (one score, default) or classification (one logit per class).</summary>
    public HeadKind Kind { get; set; } = HeadKind.Regression;

    /// <summary>Number of classes of a classification head.</summary>
    public int Classes { get; set; } = 2;

    /// <summary>Dropout inside the head.</summary>
    public double Dropout { get; set; } = 0.1;
}
