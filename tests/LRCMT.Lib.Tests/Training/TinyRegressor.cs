using LRCMT.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Tests.Training;

/// <summary>
/// A model small enough for fast trainer tests, with the parts the trainer must tell apart: a frozen embedding,
/// a LoRA-style adapter (names contain "lora_"), a trainable head, and dropout (so the generator state matters).
/// </summary>
internal sealed class TinyRegressor : nn.Module<MultimodalBatch, Tensor>
{
    private readonly Embedding embeddings;
    private readonly Parameter lora_A;
    private readonly Linear head;
    private readonly Dropout dropout;

    /// <summary>When set, the forward pass returns NaN from this call on (counting calls in training mode).</summary>
    public int? PoisonFromTrainingCall { get; set; }

    private int _trainingCalls;

    public TinyRegressor(int acousticDim, int visualDim, long seed, bool trainEmbeddings = false) : base(nameof(TinyRegressor))
    {
        torch.manual_seed(seed);
        embeddings = nn.Embedding(50, 4);
        lora_A = nn.Parameter(torch.randn(4, 4) * 0.1);
        head = nn.Linear(4 + acousticDim + visualDim, 1);
        dropout = nn.Dropout(0.2);
        RegisterComponents();
        embeddings.weight!.requires_grad = trainEmbeddings;
    }

    public override Tensor forward(MultimodalBatch batch)
    {
        using var scope = NewDisposeScope();
        var mask = batch.AttentionMask.to(ScalarType.Float32).unsqueeze(-1);
        var text = (embeddings.call(batch.InputIds) * mask).sum(1) / mask.sum(1);
        text = text + text.matmul(lora_A);
        var features = cat([text, Pool(batch.Acoustic, batch.AcousticMask), Pool(batch.Visual, batch.VisualMask)], 1);
        var score = head.call(dropout.call(features)).squeeze(-1);
        if (training && PoisonFromTrainingCall is { } poison && ++_trainingCalls >= poison) score = score * float.NaN;
        return score.MoveToOuterDisposeScope();
    }

    private static Tensor Pool(Tensor frames, Tensor mask)
    {
        var m = mask.to(ScalarType.Float32).unsqueeze(-1);
        return (frames * m).sum(1) / m.sum(1).clamp_min(1);
    }
}
