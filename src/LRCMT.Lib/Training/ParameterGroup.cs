namespace LRCMT.Training;

/// <summary>The optimizer groups of a training run, each with its own learning rate.</summary>
public enum ParameterGroup
{
    /// <summary>LoRA adapter tensors (found by type: the adapter parameters of every <c>LoRALayer</c>); <see cref="TrainerOptions.AdapterLearningRate"/>.</summary>
    Adapter,

    /// <summary>
    /// Other trainable parameters of the text encoder (found by type: every <c>TextEncoder</c> module of the model), when
    /// <see cref="TrainerOptions.EncoderLearningRate"/> is set; otherwise they belong to <see cref="Other"/>.
    /// </summary>
    Encoder,

    /// <summary>Every other trainable parameter (fusion, head); <see cref="TrainerOptions.LearningRate"/>.</summary>
    Other,

    /// <summary>
    /// LoRA+ (when <see cref="TrainerOptions.LoraPlusRatio"/> is set): the B side of every adapter — <c>lora_B</c> and,
    /// for DoRA, the magnitude vector — at <see cref="TrainerOptions.LoraPlusRatio"/> × <see cref="TrainerOptions.AdapterLearningRate"/>;
    /// <see cref="Adapter"/> then holds the A side.
    /// </summary>
    AdapterB,

    /// <summary>
    /// LoRA+ (when <see cref="TrainerOptions.LoraPlusRatio"/> is set): trainable weights of embedding tables (found by
    /// type: every <c>Embedding</c> module), at <see cref="TrainerOptions.LoraPlusEmbeddingLearningRate"/>.
    /// </summary>
    Embedding,
}
