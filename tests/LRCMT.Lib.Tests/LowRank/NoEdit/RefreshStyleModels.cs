using LRCMT.Interop;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank.NoEdit;

// Roots written the ways TorchSharp code outside this project declares them, for the automatic-refresh tests: a root
// that derives from plain nn.Module and implements IModule<…> with its own call() (as ML.NET's models do), a root that
// hides Module.call with its own, blocks invoked with .call() or with .forward(). Projections sit in fields of the
// sealed Linear type (adapted in place); their twins declare them as nn.Module<Tensor, Tensor>, so the same weights
// take the replacement path — the reference for every equality test.

/// <summary>
/// An MLP block calling its projections with .forward(). As <c>MlpBlock&lt;Linear&gt;</c> its fields are of the sealed
/// Linear type (adapted in place); as <c>MlpBlock&lt;nn.Module&lt;Tensor, Tensor&gt;&gt;</c> they can hold a LoRALinear.
/// </summary>
internal sealed class MlpBlock<TLinear> : nn.Module<Tensor, Tensor> where TLinear : nn.Module<Tensor, Tensor>
{
    private readonly TLinear up, down;
    private readonly LayerNorm norm;

    public MlpBlock(long width) : base("MlpBlock")
    {
        up = (TLinear)(object)nn.Linear(width, 2 * width);
        down = (TLinear)(object)nn.Linear(2 * width, width);
        norm = nn.LayerNorm(width);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // RootedScalars.One: the alpha that add(other) would make inline may be finalised while libtorch reads it.
        return norm.forward(x.add(down.forward(nn.functional.gelu(up.forward(x))), RootedScalars.One)).MoveToOuterDisposeScope();
    }
}

internal static class MlpBlocks
{
    /// <summary><paramref name="count"/> blocks with sealed (adapted in place) or replaceable projection fields.</summary>
    public static ModuleList<nn.Module<Tensor, Tensor>> Create(bool sealedFields, long width, int count)
        => new(Enumerable.Range(0, count)
            .Select(_ => sealedFields ? (nn.Module<Tensor, Tensor>)new MlpBlock<Linear>(width) : new MlpBlock<nn.Module<Tensor, Tensor>>(width)).ToArray());
}

/// <summary>ML.NET style: derives from plain nn.Module (no hooks) and implements IModule with its own call().</summary>
internal abstract class OwnCallEncoder : nn.Module, nn.IModule<Tensor, Tensor>
{
    protected readonly ModuleList<nn.Module<Tensor, Tensor>> blocks;
    protected readonly nn.Module<Tensor, Tensor> head;

    protected OwnCallEncoder(string name, bool sealedBlocks, long width, int layers) : base(name)
    {
        blocks = MlpBlocks.Create(sealedBlocks, width, layers);
        head = nn.Linear(width, 3);
        RegisterComponents();
    }

    public abstract Tensor call(Tensor x);
}

/// <summary>Its own call() invokes the blocks with .call(), so each block's hooks run.</summary>
internal sealed class CallingEncoder(bool sealedBlocks, long width = 8, int layers = 2)
    : OwnCallEncoder(nameof(CallingEncoder), sealedBlocks, width, layers)
{
    public override Tensor call(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var block in blocks) x = block.call(x);
        return head.call(x.mean([1])).MoveToOuterDisposeScope();
    }
}

/// <summary>Its own call() invokes the blocks with .forward(): no module on a projection's path runs hooks.</summary>
internal sealed class ForwardingEncoder(bool sealedBlocks, long width = 8, int layers = 2)
    : OwnCallEncoder(nameof(ForwardingEncoder), sealedBlocks, width, layers)
{
    public override Tensor call(Tensor x)
    {
        using var scope = NewDisposeScope();
        foreach (var block in blocks) x = block.forward(x);
        return head.call(x.mean([1])).MoveToOuterDisposeScope();
    }
}

/// <summary>Derives from nn.Module&lt;…&gt; but hides Module.call with its own, which runs no hooks; blocks by .forward().</summary>
internal sealed class HidingEncoder : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> blocks;

    public HidingEncoder(long width = 8, int layers = 2) : base(nameof(HidingEncoder))
    {
        blocks = MlpBlocks.Create(sealedFields: true, width, layers);
        RegisterComponents();
    }

    public new Tensor call(Tensor x) => forward(x);

    public override Tensor forward(Tensor x)
    {
        for (int i = 0; i < blocks.Count; i++) x = blocks[i].forward(x);
        return x;
    }
}

/// <summary>A two-input root (tokens and a 0/1 mask) with its own call(), invoking the blocks with .forward().</summary>
internal sealed class MaskedEncoder : nn.Module, nn.IModule<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> blocks;

    public MaskedEncoder(bool sealedBlocks, long width = 8, int layers = 2) : base(nameof(MaskedEncoder))
    {
        blocks = MlpBlocks.Create(sealedBlocks, width, layers);
        RegisterComponents();
    }

    public Tensor call(Tensor x, Tensor mask)
    {
        using var scope = NewDisposeScope();
        foreach (var block in blocks) x = block.forward(x);
        return x.mul(mask.unsqueeze(-1)).sum([1]).MoveToOuterDisposeScope();
    }
}

/// <summary>A hookable root invoked with .forward() by the user, whose blocks it invokes with .call().</summary>
internal sealed class BlocksByCall : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> blocks;

    public BlocksByCall(bool sealedBlocks, long width = 8, int layers = 2) : base(nameof(BlocksByCall))
    {
        blocks = MlpBlocks.Create(sealedBlocks, width, layers);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        foreach (var block in blocks) x = block.call(x);
        return x.mean([1]);
    }
}

/// <summary>Sealed projections exposed as auto-properties; one invoked with .call(), the other with .forward().</summary>
internal sealed class MixedBlock : nn.Module<Tensor, Tensor>
{
    public MixedBlock(long width = 8) : base(nameof(MixedBlock))
    {
        Up = nn.Linear(width, width);
        Down = nn.Linear(width, width);
        register_module("up", Up);
        register_module("down", Down);
    }

    public Linear Up { get; }

    public Linear Down { get; }

    public override Tensor forward(Tensor x) => Down.forward(Up.call(x).relu());
}

/// <summary>A root without hooks that invokes its one block with .forward().</summary>
internal sealed class PlainRoot : nn.Module, nn.IModule<Tensor, Tensor>
{
    private readonly MixedBlock block = new();

    public PlainRoot() : base(nameof(PlainRoot)) => RegisterComponents();

    public Tensor call(Tensor x) => block.forward(x);
}
