namespace LRCMT.Training;

/// <summary>Regression loss between predicted and true sentiment.</summary>
public enum TrainingLoss
{
    /// <summary>Mean absolute error, MMSA's choice for regression.</summary>
    L1,

    /// <summary>Mean squared error.</summary>
    Mse,
}
