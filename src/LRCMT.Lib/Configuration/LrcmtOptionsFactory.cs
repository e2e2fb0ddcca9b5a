using Microsoft.Extensions.Options;

namespace LRCMT.Configuration;

/// <summary>
/// Makes the registered <see cref="LrcmtOptions"/>: the defaults passed through each registered description in turn,
/// then validated (the description's own rules, its encoder source, and any other registered validator) so start-up
/// validation lists every problem, each at its path.
/// </summary>
internal sealed class LrcmtOptionsFactory(IEnumerable<LrcmtOptionsFactory.Source> sources, IEnumerable<IValidateOptions<LrcmtOptions>> validators)
    : IOptionsFactory<LrcmtOptions>
{
    /// <summary>One registered description (from configuration or code).</summary>
    internal sealed record Source(Func<LrcmtOptions, LrcmtOptions> Apply);

    public LrcmtOptions Create(string name)
    {
        var options = new LrcmtOptions();
        foreach (var source in sources) options = source.Apply(options) ?? throw new InvalidOperationException("An LRCMT options description returned null.");
        var failures = options.FindProblems().Concat(options.SourceProblems(encoderGivenInCode: false)).Select(p => p.ToString()).ToList();
        foreach (var validator in validators)
            if (validator.Validate(name, options) is { Failed: true } result) failures.AddRange(result.Failures ?? []);
        if (failures.Count > 0) throw new OptionsValidationException(name, typeof(LrcmtOptions), failures);
        return options;
    }
}
