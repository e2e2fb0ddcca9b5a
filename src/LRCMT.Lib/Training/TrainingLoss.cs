namespace LRCMT.Training;

/// <summary>Training loss: a regression loss between predicted and true scores, or cross-entropy over class logits.</summary>
public enum TrainingLoss
{
    /// <summary>Mean absolute error, MMSA's choice for regression.</summary>
    L1,

    /// <summary>Mean squared error.</summary>
    Mse,

    /// <summary>Cross-entropy of class logits [batch, classes] against int64 class labels (a classification head).</summary>
    CrossEntropy,
}
