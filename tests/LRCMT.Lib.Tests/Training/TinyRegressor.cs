using LRCMT.Interop;
using LRCMT.Data;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Tests.Training;

/// <summary>
/// A model small enough for fast trainer tests, with the parts the trainer must tell apart by structure: a text
/// encoder (a frozen embedding and a projection carrying a real LoRA adapter), a trainable head, and dropout (so the
/// generator state matters).
/// </summary>
internal sealed class TinyRegressor : nn.Module<MultimodalBatch, Tensor>
{
    public const string EmbeddingKey = "text_encoder.embeddings.weight";
    public const string AdapterKey = "text_encoder.proj.lora_A.default.weight";

    private readonly TinyTextEncoder text_encoder;
    private readonly Linear head;
    private readonly Dropout dropout;

    /// <summary>When set, the forward pass returns NaN from this call on (counting calls in training mode).</summary>
    public int? PoisonFromTrainingCall { get; set; }

    private int _trainingCalls;

    public TinyRegressor(int acousticDim, int visualDim, long seed, bool trainEmbeddings = false) : base(nameof(TinyRegressor))
    {
        torch.manual_seed(seed);
        text_encoder = new TinyTextEncoder();
        LowRankInjector.Inject(text_encoder, new LoRAConfig { Rank = 2, Alpha = 2, Init = LoRAInit.BothRandom, TargetModules = ["proj"] });
        head = nn.Linear(4 + acousticDim + visualDim, 1);
        dropout = nn.Dropout(0.2);
        RegisterComponents();
        text_encoder.EmbeddingWeight.requires_grad = trainEmbeddings;
    }

    public override Tensor forward(MultimodalBatch batch)
    {
        using var scope = NewDisposeScope();
        var mask = batch.AttentionMask.to(ScalarType.Float32).unsqueeze(-1);
        var states = text_encoder.call(batch.InputIds, batch.AttentionMask, null).LastHiddenState;
        var text = (states * mask).sum(1) / mask.sum(1);
        var features = cat([text, Pool(batch.Acoustic, batch.AcousticMask), Pool(batch.Visual, batch.VisualMask)], 1);
        var score = head.call(dropout.call(features)).squeeze(-1);
        if (training && PoisonFromTrainingCall is { } poison && ++_trainingCalls >= poison) score = score * NaN;
        return score.MoveToOuterDisposeScope();
    }

    private static Tensor Pool(Tensor frames, Tensor mask)
    {
        var m = mask.to(ScalarType.Float32).unsqueeze(-1);
        return (frames * m).sum(1) / m.sum(1).clamp_min(RootedScalars.One);
    }

    // held: a Scalar made inline may be finalised while libtorch reads it (RootedScalars)
    private static readonly Scalar NaN = float.NaN;

    /// <summary>Embedding then one projection: token states [batch, seq, 4].</summary>
    private sealed class TinyTextEncoder : TextEncoder
    {
        private readonly Embedding embeddings;
        private nn.Module<Tensor, Tensor> proj;

        public TinyTextEncoder() : base(nameof(TinyTextEncoder))
        {
            embeddings = nn.Embedding(50, 4);
            proj = nn.Linear(4, 4);
            RegisterComponents();
        }

        public override int HiddenSize => 4;

        public Parameter EmbeddingWeight => embeddings.weight!;

        public override TextEncoderOutput forward(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds)
        {
            using var scope = NewDisposeScope();
            var hidden = embeddings.call(inputIds);
            return new TextEncoderOutput(hidden.add(proj.call(hidden), RootedScalars.One).MoveToOuterDisposeScope(), null);
        }
    }
}
