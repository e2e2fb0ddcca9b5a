// LoRA quick start: put LoRA adapters into TorchSharp's built-in Transformer encoder, train only the adapters
// (and the task head) for a few steps, merge them into the weights, and save them as a PEFT adapter folder.
//
//   dotnet run --project samples/LoRAQuickstart

using LRCMT.LowRank;
using TorchSharp;
using static TorchSharp.torch;

torch.manual_seed(0);
const long Width = 64, Heads = 4, Seq = 12, Batch = 16;

// 1. A "pretrained" model: a native nn.TransformerEncoder plus a regression head.
var model = new EncoderRegressor(Width, Heads, layers: 2);

// 2. Inject LoRA into the attention projections. The native encoder keeps its parameters in C++, so the injector
//    converts it to managed modules with the same parameter names first; the head stays fully trainable.
var report = LowRankInjector.Inject(model, new LoRAConfig
{
    Rank = 4,
    Alpha = 8,
    Dropout = 0.05,
    TargetModules = ["in_proj.q", "in_proj.v", "out_proj"],
    ModulesToSave = ["head"],
});
Console.WriteLine(report);
Console.WriteLine();

// 3. Train a few steps on random data: only adapters and the head reach the optimiser.
using var inputs = torch.randn(Seq, Batch, Width);
using var targets = torch.randn(Batch);
var trainable = model.parameters().Where(p => p.requires_grad).ToList();
using var optimizer = torch.optim.AdamW(trainable, lr: 3e-3);
model.train();
for (int step = 1; step <= 30; step++)
{
    using var scope = torch.NewDisposeScope();
    optimizer.zero_grad();
    var loss = nn.functional.mse_loss(model.call(inputs), targets);
    loss.backward();
    optimizer.step();
    if (step % 10 == 0 || step == 1) Console.WriteLine($"step {step,2}: loss {loss.item<float>():F4}");
}

// 4. Merge the adapters into the frozen weights: the output must not change.
model.eval();
using (torch.no_grad())
{
    using var before = model.call(inputs);
    int merged = MergedModel.MergeAll(model);
    using var after = model.call(inputs);
    Console.WriteLine();
    Console.WriteLine($"merged {merged} LoRA layers; max |output change| = {after.sub(before).abs().max().item<float>():0.0#e+0}");
    MergedModel.UnmergeAll(model);
}

// 5. Save the adapter the way PEFT does (adapter_model.safetensors + adapter_config.json).
var folder = Path.Combine(Path.GetTempPath(), "lrcmt-lora-quickstart");
PeftAdapterFile.Save(model, folder);
Console.WriteLine($"adapter saved to {folder}: {string.Join(", ", Directory.GetFiles(folder).Select(Path.GetFileName))}");

/// <summary>A native TorchSharp encoder with a mean-pooled regression head.</summary>
internal sealed class EncoderRegressor : nn.Module<Tensor, Tensor>
{
    // Typed as the interface (not the sealed TransformerEncoder) so the injector can swap in the managed encoder.
    private nn.IModule<Tensor, Tensor> encoder;
    private nn.Module<Tensor, Tensor> head;

    public EncoderRegressor(long width, long heads, int layers) : base(nameof(EncoderRegressor))
    {
        encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(width, heads, 2 * width, dropout: 0.1), layers);
        head = nn.Linear(width, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var pooled = encoder.call(x).mean([0]);
        return head.call(pooled).squeeze(-1).MoveToOuterDisposeScope();
    }
}
