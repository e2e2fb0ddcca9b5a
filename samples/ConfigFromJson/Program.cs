// Configures LRCMT from appsettings.json: binds the model's description (LrcmtOptions), validates it at start-up (every
// rule, each problem named by its path, e.g. "Fusion.Heads: must divide Width (40), got 7"), then builds the model with
// the LrcmtBuilder that AddLrcmt registers.
//
//   dotnet run --project samples/ConfigFromJson                      # the settings as shipped
//   dotnet run --project samples/ConfigFromJson -- Lrcmt:Fusion:Heads=7   # override any key with key=value; this one is invalid
using LRCMT.Configuration;
using LRCMT.Data;
using LRCMT.Errors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

var configuration = new ConfigurationBuilder()
    .SetBasePath(AppContext.BaseDirectory)
    .AddJsonFile("appsettings.json", optional: false)
    .AddInMemoryCollection(args.Select(a => a.Split('=', 2)).Where(kv => kv.Length == 2)
        .Select(kv => KeyValuePair.Create(kv[0], (string?)kv[1])))
    .Build();

var services = new ServiceCollection()
    .AddLrcmt(configuration.GetSection(LrcmtOptions.SectionName))
    // The description is immutable: a later step returns a changed copy. Relative folders in appsettings.json mean
    // "next to the program", not "wherever it was started from".
    .AddLrcmt(options => options.TextEncoder.PretrainedFolder is { } folder && !Path.IsPathRooted(folder)
        ? options with { TextEncoder = options.TextEncoder with { PretrainedFolder = Path.Combine(AppContext.BaseDirectory, folder) } }
        : options);

using var provider = services.BuildServiceProvider();
try
{
    // What a host does on start: every options validator runs and all failures are reported together.
    provider.GetRequiredService<IStartupValidator>().Validate();
}
catch (OptionsValidationException e)
{
    Console.Error.WriteLine("The LRCMT settings are invalid:");
    foreach (var failure in e.Failures) Console.Error.WriteLine($"  - {failure}");
    return 1;
}
catch (InvalidConfigurationException e)
{
    // A value that cannot be converted (e.g. Lrcmt:Fusion:Heads=abc); the message names the key and the type.
    Console.Error.WriteLine($"The LRCMT settings could not be read: {e.Message}");
    return 1;
}

var options = provider.GetRequiredService<IOptions<LrcmtOptions>>().Value;
Console.WriteLine($"Encoder: {options.TextEncoder.PretrainedFolder} ({options.TextEncoder.Tuning})");
Console.WriteLine($"Fusion: width {options.Fusion.Width}, {options.Fusion.Heads} heads, {options.Fusion.Layers} layers, {options.Interaction.Mode}");

// The fusion layers and the head start from random weights: seeded, the sample prints the same scores every run.
manual_seed(0);
using var model = provider.GetRequiredService<LrcmtBuilder>().Build();
Console.WriteLine(model.GetParameterReport());

// One random, unaligned batch of two clips to show the shapes the model takes and returns.
using var batch = new MultimodalBatch(
    InputIds: randint(1, 100, [2, 12]),
    AttentionMask: ones(2, 12, dtype: ScalarType.Int64),
    TokenTypeIds: null,
    Acoustic: randn(2, 30, options.Modalities.AcousticFeatures),
    AcousticMask: arange(30).unsqueeze(0).lt(tensor(new long[] { 30, 18 }).unsqueeze(1)),
    Visual: randn(2, 25, options.Modalities.VisualFeatures),
    VisualMask: ones(2, 25, dtype: ScalarType.Bool),
    Labels: null,
    Ids: ["clip-a", "clip-b"]);

model.eval();
using (no_grad())
{
    using var scores = model.call(batch);
    Console.WriteLine($"Predicted sentiment: {string.Join(", ", scores.data<float>().ToArray().Select(s => s.ToString("F3")))}");
}
return 0;
