using Microsoft.Extensions.Options;

namespace LRCMT.Configuration;

/// <summary>Checks the data annotations of <see cref="LrcmtOptions"/> and its nested options (source-generated, no reflection).</summary>
[OptionsValidator]
internal sealed partial class LrcmtOptionsAnnotationsValidator : IValidateOptions<LrcmtOptions>
{
}
