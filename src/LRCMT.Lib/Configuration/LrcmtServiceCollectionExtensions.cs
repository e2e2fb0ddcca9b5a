using LRCMT.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers LRCMT's options (validated at start-up) and a transient <see cref="LrcmtBuilder"/> that starts from them.</summary>
public static class LrcmtServiceCollectionExtensions
{
    /// <summary>Binds <see cref="LrcmtOptions"/> from <paramref name="section"/> (e.g. <c>configuration.GetSection("Lrcmt")</c>).</summary>
    public static IServiceCollection AddLrcmt(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return services.AddLrcmt(builder => builder.Configure(options =>
        {
            section.Bind(options);
            // The binder appends configured list items to a default list; configured LoRA targets replace LRCMT's defaults.
            if (section.GetSection("LoRA:TargetModules").Get<List<string>>() is { Count: > 0 } targets) options.LoRA.TargetModules = targets;
        }));
    }

    /// <summary>Configures <see cref="LrcmtOptions"/> in code.</summary>
    public static IServiceCollection AddLrcmt(this IServiceCollection services, Action<LrcmtOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddLrcmt(builder => builder.Configure(configure));
    }

    private static IServiceCollection AddLrcmt(this IServiceCollection services, Action<OptionsBuilder<LrcmtOptions>> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        configure(services.AddOptions<LrcmtOptions>().ValidateOnStart());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LrcmtOptions>, LrcmtOptionsValidator>());
        // Transient: a builder builds exactly one model.
        services.TryAddTransient(provider => LrcmtBuilder.FromOptions(provider.GetRequiredService<IOptions<LrcmtOptions>>().Value));
        return services;
    }
}
