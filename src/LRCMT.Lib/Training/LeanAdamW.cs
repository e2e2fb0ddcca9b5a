using LRCMT.Configuration;
using LRCMT.Errors;
using TorchSharp;
using TorchSharp.Modules;
using static LRCMT.Interop.RootedScalars;
using static TorchSharp.torch;

namespace LRCMT.Training;

/// <summary>
/// AdamW for your own training loop: a drop-in for TorchSharp's <c>torch.optim.AdamW</c> (same arguments, same
/// defaults, same update and the same state, so <c>state_dict()</c> / <c>load_state_dict</c> and saved optimizer files
/// interchange with it) that needs far less memory. The library's <see cref="Trainer"/> uses it too.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>TorchSharp's step keeps each parameter's temporaries (√v and its scaled copy, two parameter-sized tensors)
/// alive in one dispose scope until every parameter is updated: for bert-base that is ~0.9 GB at the end of a full
/// fine-tuning step. Here each parameter's update runs in its own scope and needs one temporary, freed at once; a
/// parameter over 1 MiB is updated a slice at a time, so that temporary stays small enough for the native heap to serve
/// from memory it already holds (a whole-parameter one, 94 MB for bert-base's word embedding, is mapped and zero-filled
/// again every step). Slices give the same bits: the update is elementwise.</item>
/// <item><see cref="zero_grad"/> releases gradients (PyTorch's <c>set_to_none=True</c> default) instead of zeroing
/// them, so the next forward runs without a full set of gradient buffers beside its activations.</item>
/// <item>AMSGrad keeps its running maximum in place instead of allocating a new one every step.</item>
/// </list>
/// The update is AdamW's (decoupled weight decay, bias-corrected moments): θ ← θ(1 − lr·λ) − lr/(1 − β₁ᵗ) ·
/// m / (√v̂ / √(1 − β₂ᵗ) + ε), with v̂ = v, or its running maximum under AMSGrad; <c>maximize</c> ascends. Parameters
/// without a gradient are skipped, as PyTorch does. Parameter groups (<see cref="AdamW.ParamGroup"/>) carry their own
/// settings; a group's learning rate can be changed between steps through <c>ParamGroups</c>, as with any TorchSharp
/// optimizer.
/// </remarks>
/// <example>
/// <code>
/// using var optimizer = new LeanAdamW(model.parameters().Where(p => p.requires_grad), lr: 1e-4, weight_decay: 0.01);
/// for (int step = 0; step &lt; steps; step++)
/// {
///     using var scope = torch.NewDisposeScope();
///     optimizer.zero_grad();
///     loss(model, batch).backward();
///     optimizer.step();
/// }
/// </code>
/// </example>
public sealed class LeanAdamW : AdamW
{
    /// <summary>One group of parameters with these settings (TorchSharp's <c>AdamW(parameters, …)</c>).</summary>
    /// <param name="parameters">The parameters to optimise.</param>
    /// <param name="lr">Learning rate (≥ 0).</param>
    /// <param name="beta1">Decay of the first moment, in [0, 1).</param>
    /// <param name="beta2">Decay of the second moment, in [0, 1).</param>
    /// <param name="eps">Added to the denominator for numerical stability (≥ 0).</param>
    /// <param name="weight_decay">Decoupled weight decay λ (≥ 0); TorchSharp's default is 0 (PyTorch's is 0.01).</param>
    /// <param name="amsgrad">Use the running maximum of the second moment (AMSGrad).</param>
    /// <param name="maximize">Ascend the objective instead of descending it.</param>
    /// <exception cref="InvalidConfigurationException">A setting is out of range or not finite; all problems are listed.</exception>
    public LeanAdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : this(Settings.Check(parameters is null ? null : [new ParamGroup { Parameters = parameters }],
            lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, nameof(parameters)))
    {
    }

    /// <summary>
    /// Several parameter groups (TorchSharp's <c>AdamW(groups, …)</c>): a group's own settings win; settings a group
    /// leaves unset (a <see cref="AdamW.ParamGroup"/> built from <see cref="AdamW.Options"/>) come from these defaults.
    /// </summary>
    /// <inheritdoc cref="LeanAdamW(IEnumerable{Parameter}, double, double, double, double, double, bool, bool)"/>
    public LeanAdamW(IEnumerable<ParamGroup> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : this(Settings.Check(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, nameof(parameters)))
    {
    }

    // TorchSharp's optimizer has a finalizer that fails on a half-built object, so nothing may throw before its
    // constructor has run: invalid settings build an empty optimizer first, which is then dropped and reported.
    private LeanAdamW(Settings settings)
        : base(settings.Usable ? settings.Groups : [], settings.Usable ? settings.Lr : 1e-3, settings.Usable ? settings.Beta1 : 0.9,
            settings.Usable ? settings.Beta2 : 0.999, settings.Usable ? settings.Eps : 1e-8, settings.Usable ? settings.WeightDecay : 0,
            settings.AmsGrad, settings.Maximize)
    {
        if (settings.Usable) return;
        GC.SuppressFinalize(this);
        if (settings.NullArgument is { } name) throw new ArgumentNullException(name);
        throw new InvalidConfigurationException("LeanAdamW", settings.Problems);
    }

    /// <summary>
    /// Writes the optimizer state in TorchSharp's optimizer-state layout under the type name <c>AdamW</c>, so TorchSharp's
    /// AdamW can load it (TorchSharp's own method would write <c>LeanAdamW</c>, which its AdamW refuses).
    /// </summary>
    /// <param name="writer">Where to write; left open.</param>
    public new void save_state_dict(BinaryWriter writer) => AdamWStateFile.Save(this, writer);

    /// <summary>Writes the optimizer state to a file (see <see cref="save_state_dict(BinaryWriter)"/>).</summary>
    /// <param name="location">The file to create or overwrite.</param>
    public new void save_state_dict(string location)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        using var writer = new BinaryWriter(File.Create(location));
        save_state_dict(writer);
    }

    /// <summary>Reads optimizer state written by this class or by TorchSharp's AdamW.</summary>
    /// <param name="reader">Where to read from; left open.</param>
    /// <exception cref="CorruptFileException">The stream holds another optimizer's state, other group or parameter counts, or ends early.</exception>
    public new void load_state_dict(BinaryReader reader) => AdamWStateFile.Load(this, reader, "optimizer state stream");

    /// <summary>Reads optimizer state from a file written by this class or by TorchSharp's AdamW.</summary>
    /// <param name="location">The file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The file holds another optimizer's state, other group or parameter counts, or ends early.</exception>
    public new void load_state_dict(string location)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        using var reader = new BinaryReader(LRCMT.IO.InputFile.OpenRead(location));
        AdamWStateFile.Load(this, reader, location);
    }

    /// <summary>Releases every gradient (sets <c>grad</c> to null, PyTorch's <c>set_to_none=True</c>) instead of zeroing it.</summary>
    public override void zero_grad()
    {
        foreach (var group in _parameter_groups)
            foreach (var parameter in group.Parameters)
                parameter.grad = null;
    }

    /// <summary>Updates every parameter that has a gradient, one parameter at a time.</summary>
    /// <param name="closure">Re-evaluates the model and returns the loss (optional), as in TorchSharp.</param>
    /// <returns>The closure's loss, or null.</returns>
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, eps = options.eps!.Value;
        double lr = options.LearningRate!.Value, decay = options.weight_decay!.Value;
        bool amsgrad = options.amsgrad ?? false, maximize = options.maximize ?? false;
        foreach (var parameter in group.Parameters)
        {
            using var scope = NewDisposeScope();
            var grad = parameter.grad;
            if (grad is null) continue;
            var state = (State)_state[parameter.Handle];
            state.step += 1;
            double correction1 = 1 - Math.Pow(beta1, state.step), correction2 = 1 - Math.Pow(beta2, state.step);
            // Every number goes to libtorch as a Scalar held until this parameter is done (RootedScalars says why).
            using Scalar keep = 1 - lr * decay, b1 = beta1, b2 = beta2, rest1 = 1 - beta1, rest2 = 1 - beta2,
                root2 = Math.Sqrt(correction2), epsilon = eps, stepSize = -lr / correction1;
            // A state loaded from a run without AMSGrad has no maximum yet; it starts at v, as a fresh one would.
            if (amsgrad && state.max_exp_avg_sq is null) state.max_exp_avg_sq = zeros_like(state.exp_avg_sq).DetachFromDisposeScope();

            foreach (var (p, g, m, v, vMax) in Slices(parameter, grad, state.exp_avg, state.exp_avg_sq, state.max_exp_avg_sq))
            {
                var gradient = maximize ? g.neg() : g;
                p.mul_(keep);
                m.mul_(b1).add_(gradient, alpha: rest1);
                v.mul_(b2).addcmul_(gradient, gradient, value: rest2);
                var second = v;
                if (vMax is not null)
                {
                    vMax.copy_(maximum(vMax, v));
                    second = vMax;
                }
                var denominator = second.sqrt().div_(root2).add_(epsilon, One);
                p.addcdiv_(m, denominator, value: stepSize);
            }
        }
    }, closure);

    /// <summary>The most elements one slice of an update holds: 1 MiB of float32.</summary>
    internal const long SliceElements = 1 << 18;

    /// <summary>
    /// A parameter and its gradient and moments in slices of at most <see cref="SliceElements"/> elements (one slice,
    /// the tensors themselves, when they are that small or not all contiguous). The update is elementwise, so slices give
    /// the same bits; what changes is the temporaries (−g, √v, the AMSGrad maximum): a slice's size instead of the
    /// parameter's, small enough that the native heap serves them from memory it already has. Whole-parameter temporaries
    /// of tens of megabytes (a bert-base word embedding: 94 MB) come from fresh mappings, zero-filled page by page every step.
    /// </summary>
    private static IEnumerable<(Tensor Parameter, Tensor Grad, Tensor ExpAvg, Tensor ExpAvgSq, Tensor? MaxExpAvgSq)> Slices(
        Tensor parameter, Tensor grad, Tensor expAvg, Tensor expAvgSq, Tensor? maxExpAvgSq)
    {
        long count = parameter.numel();
        bool contiguous = parameter.is_contiguous() && grad.is_contiguous() && expAvg.is_contiguous() && expAvgSq.is_contiguous()
                          && maxExpAvgSq?.is_contiguous() != false;
        if (count <= SliceElements || !contiguous)
        {
            yield return (parameter, grad, expAvg, expAvgSq, maxExpAvgSq);
            yield break;
        }
        var (p, g, m, v, vMax) = (parameter.view(-1), grad.view(-1), expAvg.view(-1), expAvgSq.view(-1), maxExpAvgSq?.view(-1));
        for (long start = 0; start < count; start += SliceElements)
        {
            using var scope = NewDisposeScope();
            long length = Math.Min(SliceElements, count - start);
            yield return (p.narrow(0, start, length), g.narrow(0, start, length), m.narrow(0, start, length), v.narrow(0, start, length),
                vMax?.narrow(0, start, length));
        }
    }

    /// <summary>The constructor's arguments and every problem with them (checked before TorchSharp sees them).</summary>
    private sealed record Settings(IReadOnlyList<ParamGroup> Groups, double Lr, double Beta1, double Beta2, double Eps, double WeightDecay,
        bool AmsGrad, bool Maximize, IReadOnlyList<SettingProblem> Problems, string? NullArgument)
    {
        public bool Usable => Problems.Count == 0 && NullArgument is null;

        public static Settings Check(IEnumerable<ParamGroup>? groups, double lr, double beta1, double beta2, double eps, double weightDecay,
            bool amsgrad, bool maximize, string argumentName)
        {
            if (groups is null) return new Settings([], lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, [], argumentName);
            var list = groups.ToList();
            var problems = new List<SettingProblem>();
            AddProblems(problems, "", lr, beta1, beta2, eps, weightDecay);
            for (int i = 0; i < list.Count; i++)
            {
                if (list[i] is not { } group) { problems.Add(new SettingProblem($"groups[{i}]", "is null")); continue; }
                if (group.Options is { } o)
                    AddProblems(problems, $"groups[{i}].", o.LearningRate ?? lr, o.beta1 ?? beta1, o.beta2 ?? beta2, o.eps ?? eps, o.weight_decay ?? weightDecay);
            }
            return new Settings(list, lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, problems.Distinct().ToList(), null);
        }

        private static void AddProblems(List<SettingProblem> problems, string prefix, double lr, double beta1, double beta2, double eps, double weightDecay)
            => problems.AddRange(SettingRules.Collect(
                SettingRules.NonNegative(prefix + "lr", lr),
                SettingRules.Rate(prefix + "beta1", beta1),
                SettingRules.Rate(prefix + "beta2", beta2),
                SettingRules.NonNegative(prefix + "eps", eps),
                SettingRules.NonNegative(prefix + "weight_decay", weightDecay)));
    }
}
