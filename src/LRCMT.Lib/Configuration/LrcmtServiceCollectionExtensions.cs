using LRCMT.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers LRCMT's options (validated at start-up, with every problem listed) and a transient
/// <see cref="LrcmtBuilder"/> that starts from them.
/// </summary>
public static class LrcmtServiceCollectionExtensions
{
    /// <summary>Binds <see cref="LrcmtOptions"/> from <paramref name="section"/> (e.g. <c>configuration.GetSection("Lrcmt")</c>) as <see cref="LrcmtOptions.FromConfiguration"/> does.</summary>
    public static IServiceCollection AddLrcmt(this IServiceCollection services, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return services.AddLrcmt(options => LrcmtOptions.FromConfiguration(section, options));
    }

    /// <summary>Describes the model in code: <paramref name="configure"/> receives the defaults and returns the description (e.g. <c>o =&gt; o with { ... }</c>).</summary>
    public static IServiceCollection AddLrcmt(this IServiceCollection services, Func<LrcmtOptions, LrcmtOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSingleton(new LrcmtOptionsFactory.Source(configure));
        services.AddOptions<LrcmtOptions>().ValidateOnStart();
        // The options are immutable, so they are made by a factory from the registered description, not set in place.
        services.Replace(ServiceDescriptor.Transient<IOptionsFactory<LrcmtOptions>, LrcmtOptionsFactory>());
        // Transient: a builder builds exactly one model.
        services.TryAddTransient(provider => LrcmtBuilder.FromOptions(provider.GetRequiredService<IOptions<LrcmtOptions>>().Value));
        return services;
    }
}
