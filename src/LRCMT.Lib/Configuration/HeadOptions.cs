using System.ComponentModel.DataAnnotations;
using LRCMT.Models;

namespace LRCMT.Configuration;

/// <summary>The prediction head.</summary>
public sealed record HeadOptions
{
    /// <summary>Regression (one score, default) or classification (one logit per class).</summary>
    [EnumDataType(typeof(HeadKind))]
    public HeadKind Kind { get; set; } = HeadKind.Regression;

    /// <summary>Number of classes of a classification head.</summary>
    [Range(2, 100_000)]
    public int Classes { get; set; } = 2;

    /// <summary>Dropout inside the head.</summary>
    [Range(0.0, 0.99)]
    public double Dropout { get; set; } = 0.1;
}
