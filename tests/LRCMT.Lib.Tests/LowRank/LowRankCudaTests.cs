using FluentAssertions;
using LRCMT.LowRank;
using LRCMT.LowRank.Transformers;
using LRCMT.Tests.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LRCMT.Tests.LowRank;

/// <summary>The same computations on CUDA and on the CPU must agree. Run alone with <c>-trait Category=GPU</c>.</summary>
[Trait("Category", "GPU")]
public class LowRankCudaTests
{
    private static float MaxDiff(Tensor a, Tensor b) => a.cpu().sub(b.cpu()).abs().max().item<float>();

    private static (ToyBert cpu, ToyBert cuda) TwinModels(LoRAConfig config)
    {
        torch.manual_seed(41);
        var cpu = new ToyBert(16);
        LowRankInjector.Inject(cpu, config);
        var cuda = new ToyBert(16);
        LowRankInjector.Inject(cuda, config);
        cuda.load_state_dict(cpu.state_dict());
        cuda.to(DeviceType.CUDA);
        return (cpu, cuda);
    }

    [Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    public void LoRA_and_DoRA_forward_backward_and_merge_agree_on_cuda_and_cpu()
    {
        foreach (var dora in new[] { false, true })
        {
            var (cpu, cuda) = TwinModels(new LoRAConfig { Rank = 4, UseDora = dora, Init = LoRAInit.BothRandom, TargetModules = ["query", "value", "dense"] });
            using var x = torch.randn(3, 5, 16);
            using var yCpu = cpu.call(x);
            using var yCuda = cuda.call(x.cuda());
            MaxDiff(yCuda, yCpu).Should().BeLessThanOrEqualTo(1e-4f);

            using Scalar two = 2; // held: a Scalar made inline may be finalised while libtorch reads it
            yCpu.pow(two).mean().backward();
            yCuda.pow(two).mean().backward();
            var cudaGrads = cuda.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.grad!);
            foreach (var (name, parameter) in cpu.named_parameters().Where(p => p.parameter.requires_grad))
                MaxDiff(cudaGrads[name], parameter.grad!).Should().BeLessThanOrEqualTo(1e-4f, name);

            MergedModel.MergeAll(cuda);
            using var merged = cuda.call(x.cuda());
            MaxDiff(merged, yCpu).Should().BeLessThanOrEqualTo(1e-4f);
        }
    }

    [Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    public void A_converted_native_encoder_with_in_proj_adapters_agrees_on_cuda_and_cpu()
    {
        torch.manual_seed(42);
        var native = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, 0.0, nn.Activations.GELU), 2);
        native.eval();
        var options = new NativeTransformerOptions(4, nn.Activations.GELU, 0.0);
        var cpu = NativeTransformerConverter.ToManaged(native, options);
        var cuda = NativeTransformerConverter.ToManaged(native, options);
        cuda.to(DeviceType.CUDA);
        using var x = torch.randn(6, 2, 16);
        using var reference = native.call(x);
        MaxDiff(cuda.call(x.cuda()), reference).Should().BeLessThanOrEqualTo(1e-4f);

        var config = new LoRAConfig { Rank = 2, Init = LoRAInit.BothRandom, TargetModules = ["in_proj.q", "in_proj.v", "out_proj"] };
        torch.manual_seed(43);
        LowRankInjector.Inject(cpu, config);
        LowRankInjector.Inject(cuda, config);
        cuda.load_state_dict(cpu.state_dict());
        MaxDiff(cuda.call(x.cuda()), cpu.call(x)).Should().BeLessThanOrEqualTo(1e-4f);
    }

    [Fact(Skip = Cuda.SkipReason, SkipUnless = nameof(Cuda.Available), SkipType = typeof(Cuda))]
    public void Layers_adapted_in_place_refresh_through_block_hooks_and_report_NaN_on_cuda_as_on_the_cpu()
    {
        var config = new LoRAConfig { Rank = 2, Alpha = 4, TargetModules = ["up", "down"], Init = LoRAInit.BothRandom };
        torch.manual_seed(42);
        var cpu = new NoEdit.CallingEncoder(sealedBlocks: true);
        LowRankInjector.Inject(cpu, config);
        var cuda = new NoEdit.CallingEncoder(sealedBlocks: true);
        LowRankInjector.Inject(cuda, config);
        using (no_grad()) cuda.load_state_dict(cpu.state_dict());
        cuda.to(DeviceType.CUDA);
        LowRankInjector.RefreshAdapters(cuda);
        using var x = torch.randn(4, 5, 8);
        using var y = torch.randn(4, 3);
        foreach (var (model, device) in new[] { (cpu, torch.CPU), (cuda, torch.CUDA) })
        {
            using var optimizer = torch.optim.AdamW(model.parameters().Where(p => p.requires_grad).ToList(), 0.02);
            for (int step = 0; step < 5; step++)
            {
                optimizer.zero_grad();
                nn.functional.mse_loss(model.call(x.to(device)), y.to(device)).backward();
                optimizer.step();
            }
        }
        using (no_grad()) MaxDiff(cuda.call(x.cuda()), cpu.call(x)).Should().BeLessThanOrEqualTo(1e-4f);

        using Scalar nan = double.NaN;
        using (no_grad()) cuda.named_parameters().First(p => p.name.EndsWith("lora_A.default.weight", StringComparison.Ordinal)).parameter.fill_(nan);
        nn.functional.mse_loss(cuda.call(x.cuda()), y.cuda()).backward();
        FluentActions.Invoking(() => cuda.call(x.cuda())).Should().Throw<LRCMT.Errors.NonFiniteAdapterWeightsException>();
    }
}
