namespace LRCMT.LowRank;

/// <summary>How a targeted projection received its adapter (see docs/lora.md, "Which path a layer takes").</summary>
public enum AdaptationMechanism
{
    /// <summary>The <c>nn.Linear</c> child was swapped for a <see cref="LoRALinear"/> in every slot of its parent (the fast path).</summary>
    Replacement,

    /// <summary>
    /// The module stayed where its parent calls it (a field of the sealed <c>Linear</c> type, or a registered
    /// linear-like type); its forward reads the adapted weight W0 + s·B·A, rebuilt before each forward.
    /// </summary>
    Substitution,

    /// <summary>One third (q, k or v) of a managed attention module's packed input projection.</summary>
    InProjectionSlice,
}
