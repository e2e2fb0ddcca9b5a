using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LRCMT.Training;

/// <summary>
/// TorchSharp's AdamW with the same state (so <see cref="TrainerCheckpoint"/> reads and writes it unchanged) and
/// the same update, but lean on memory:
/// <list type="bullet">
/// <item>TorchSharp's step keeps each parameter's temporaries (√v and its scaled copy, two parameter-sized tensors)
/// alive in one dispose scope until every parameter is updated: for bert-base that is ~0.9 GB at the end of a full
/// fine-tuning step. Here each parameter's update runs in its own scope and needs one temporary, freed at once.</item>
/// <item><see cref="zero_grad"/> releases gradients (PyTorch's <c>set_to_none=True</c> default) instead of zeroing
/// them, so the next forward runs without a full set of gradient buffers beside its activations.</item>
/// </list>
/// The update is AdamW's (decoupled weight decay, bias-corrected moments): θ ← θ(1 − lr·λ) − lr/(1 − β₁ᵗ) ·
/// m / (√v / √(1 − β₂ᵗ) + ε). Parameters without a gradient are skipped, as PyTorch does.
/// </summary>
internal sealed class LeanAdamW : AdamW
{
    public LeanAdamW(IEnumerable<ParamGroup> groups, double lr, double weightDecay)
        : base(groups, lr: lr, weight_decay: weightDecay)
    {
    }

    public override void zero_grad()
    {
        foreach (var group in _parameter_groups)
            foreach (var parameter in group.Parameters)
                parameter.grad = null;
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, eps = options.eps!.Value;
        double lr = options.LearningRate!.Value, decay = options.weight_decay!.Value;
        foreach (var parameter in group.Parameters)
        {
            using var scope = NewDisposeScope();
            var grad = parameter.grad;
            if (grad is null) continue;
            var state = (State)_state[parameter.Handle];
            state.step += 1;
            double correction1 = 1 - Math.Pow(beta1, state.step), correction2 = 1 - Math.Pow(beta2, state.step);

            parameter.mul_(1 - lr * decay);
            state.exp_avg.mul_(beta1).add_(grad, alpha: 1 - beta1);
            state.exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value: 1 - beta2);
            var denominator = state.exp_avg_sq.sqrt().div_(Math.Sqrt(correction2)).add_(eps);
            parameter.addcdiv_(state.exp_avg, denominator, value: -lr / correction1);
        }
    }, closure);
}
