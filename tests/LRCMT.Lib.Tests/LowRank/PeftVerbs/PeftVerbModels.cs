using LRCMT.LowRank.Transformers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank.PeftVerbs;

// One small model per adaptation path, for the tests of PEFT's second-tier verbs (issue 26).

/// <summary>Replacement path: the projections sit in <c>nn.Module&lt;Tensor, Tensor&gt;</c> fields. Input [batch, seq, 6].</summary>
internal sealed class ReplacementModel : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> up, down;

    public ReplacementModel() : base(nameof(ReplacementModel))
    {
        up = nn.Linear(6, 10);
        down = nn.Linear(10, 6);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => down.call(nn.functional.gelu(up.call(x)));
}

/// <summary>Substitution path: sealed <c>Linear</c> fields invoked with <c>.call</c>. Input [batch, seq, 6].</summary>
internal sealed class SubstitutionModel : nn.Module<Tensor, Tensor>
{
    private readonly Linear up, down;

    public SubstitutionModel() : base(nameof(SubstitutionModel))
    {
        up = nn.Linear(6, 10);
        down = nn.Linear(10, 6);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => down.call(nn.functional.gelu(up.call(x)));
}

/// <summary>Substitution path with sealed <c>Linear</c> fields invoked with <c>.forward</c> only (no hook of theirs runs).</summary>
internal sealed class ForwardOnlySubstitutionModel : nn.Module<Tensor, Tensor>
{
    private readonly Linear up, down;

    public ForwardOnlySubstitutionModel() : base(nameof(ForwardOnlySubstitutionModel))
    {
        up = nn.Linear(6, 10);
        down = nn.Linear(10, 6);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => down.forward(nn.functional.gelu(up.forward(x)));
}

/// <summary>In-projection path: a managed encoder layer, sequence-first ([seq, batch, 8]).</summary>
internal sealed class AttentionModel : nn.Module<Tensor, Tensor>
{
    private nn.Module<Tensor, Tensor> layer;

    public AttentionModel() : base(nameof(AttentionModel))
    {
        layer = new ManagedTransformerEncoderLayer(8, 2, 16, dropout: 0.0);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => layer.call(x);
}

internal static class PeftVerbSupport
{
    /// <summary>One model of each path, seeded, in eval mode, with the targets that adapt it, an input maker (batch size) and the input's batch dimension.</summary>
    public static IEnumerable<(string Path, nn.Module<Tensor, Tensor> Model, string[] Targets, Func<long, Tensor> Input, int BatchDim)> Paths(int seed = 7)
    {
        torch.manual_seed(seed);
        yield return ("replacement", Eval(new ReplacementModel()), ["up", "down"], n => randn(n, 3, 6), 0);
        torch.manual_seed(seed);
        yield return ("substitution", Eval(new SubstitutionModel()), ["up", "down"], n => randn(n, 3, 6), 0);
        torch.manual_seed(seed);
        yield return ("in-projection slices", Eval(new AttentionModel()), ["in_proj.q", "in_proj.v", "linear1"], n => randn(4, n, 8), 1);
        torch.manual_seed(seed);
        yield return ("whole attention (PEFT layout)", Eval(new AttentionModel()), ["self_attn"], n => randn(4, n, 8), 1);
    }

    public static T Eval<T>(T model) where T : nn.Module
    {
        model.eval();
        return model;
    }

    public static double MaxDiff(Tensor a, Tensor b) => a.sub(b).abs().max().item<float>();
}
