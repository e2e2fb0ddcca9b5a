namespace LRCMT.Evaluation;

/// <summary>The benchmark whose metric set and label range <see cref="MsaMetrics"/> follows.</summary>
public enum MsaDataset
{
    /// <summary>CMU-MOSI: sentiment in [-3, 3].</summary>
    Mosi,

    /// <summary>CMU-MOSEI: sentiment in [-3, 3] (same metrics as MOSI).</summary>
    Mosei,

    /// <summary>CH-SIMS: sentiment in [-1, 1].</summary>
    Sims,
}
