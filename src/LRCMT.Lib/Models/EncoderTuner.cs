using LRCMT.LowRank;
using LRCMT.TextEncoders;

namespace LRCMT.Models;

/// <summary>Decides which text-encoder parameters train, before the encoder is composed into the model.</summary>
internal static class EncoderTuner
{
    /// <summary>Applies <paramref name="tuning"/>; returns the injection report for LoRA, null otherwise.</summary>
    public static InjectionReport? Apply(TextEncoder encoder, EncoderTuning tuning, LoRAConfig? lora)
    {
        switch (tuning)
        {
            case EncoderTuning.LoRA:
                // The injector freezes everything in the encoder that is not an adapter.
                return LowRankInjector.Inject(encoder, lora ?? throw new ArgumentNullException(nameof(lora), "LoRA tuning needs a LoRA configuration."));
            case EncoderTuning.Frozen:
                SetTrainable(encoder, false);
                return null;
            case EncoderTuning.Full:
                SetTrainable(encoder, true);
                return null;
            default:
                throw new ArgumentOutOfRangeException(nameof(tuning), tuning, "Unknown encoder tuning.");
        }
    }

    private static void SetTrainable(TextEncoder encoder, bool trainable)
    {
        foreach (var parameter in encoder.parameters()) parameter.requires_grad = trainable;
    }
}
