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
        return services.AddLrcmt(builder => builder.Bind(section));
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
        configure(services.AddOptionsWithValidateOnStart<LrcmtOptions, LrcmtOptionsAnnotationsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LrcmtOptions>, LrcmtOptionsValidator>());
        // Transient: a builder builds exactly one model.
        services.TryAddTransient(provider => LrcmtBuilder.FromOptions(provider.GetRequiredService<IOptions<LrcmtOptions>>().Value));
        return services;
    }
}
