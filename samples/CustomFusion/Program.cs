// Composes a custom fusion model (text <-> audio only, no visual stream, no acoustic-visual stage) from LRCMT.Lib's
// public building blocks, puts LoRA into its BERT, and trains it for a few steps on a toy task where the label is
// carried by the audio, so the loss can only fall if the cross-modal attention works.
//
//   dotnet run --project samples/CustomFusion
using CustomFusion;
using LRCMT.Data;
using LRCMT.Fusion;
using LRCMT.LowRank;
using LRCMT.TextEncoders;
using static TorchSharp.torch;

manual_seed(0);
var bert = BertModel.FromPretrained(Path.Combine(AppContext.BaseDirectory, "models", "tiny-bert"));
var injection = LowRankInjector.Inject(bert, new LoRAConfig { Rank = 4, Alpha = 8, TargetModules = ["query", "value"] });
Console.WriteLine($"LoRA in {injection.Adapted.Count} BERT projections");

using var model = new TextAudioFusion(bert, acousticFeatures: 5,
    // Text has no clip time, so the relative-time bias (on by default, for streams that both have one) stays off.
    new CrossModalSettings { Width = 16, Heads = 4, Layers = 2, RelativeTimeBias = false });
Console.WriteLine(ParameterReport.Of(model));

using var optimizer = optim.AdamW(model.parameters().Where(p => p.requires_grad), lr: 3e-3);
model.train();
for (var step = 1; step <= 60; step++)
{
    using var scope = NewDisposeScope();
    var batch = ToyBatch(size: 16);
    var loss = nn.functional.l1_loss(model.call(batch), batch.Labels!);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (step % 10 == 0) Console.WriteLine($"step {step,3}: L1 loss {loss.item<float>():F3}");
}
return;

// Audio of unaligned length; the label is the mean of the first acoustic feature over the real frames (times 3).
static MultimodalBatch ToyBatch(int size)
{
    var lengths = randint(4, 13, [size]);
    var acousticMask = arange(12).unsqueeze(0).lt(lengths.unsqueeze(1));
    var acoustic = randn(size, 12, 5);
    var labels = 3 * acoustic.select(2, 0).masked_fill(acousticMask.logical_not(), 0).sum(1) / lengths;
    return new MultimodalBatch(
        InputIds: randint(1, 120, [size, 8]), AttentionMask: ones(size, 8, dtype: ScalarType.Int64), TokenTypeIds: null,
        Acoustic: acoustic, AcousticMask: acousticMask,
        Visual: zeros(size, 1, 1), VisualMask: zeros(size, 1, dtype: ScalarType.Bool),
        Labels: labels, Ids: Enumerable.Range(0, size).Select(i => $"toy-{i}").ToList());
}
