namespace LRCMT.Training;

/// <summary>How the learning rate falls after warm-up (the shapes of Hugging Face's schedulers).</summary>
public enum LearningRateDecay
{
    /// <summary>Linearly from the base rate to 0 at the last step.</summary>
    Linear,

    /// <summary>Half a cosine from the base rate to 0 at the last step.</summary>
    Cosine,

    /// <summary>Stays at the base rate.</summary>
    Constant,
}
