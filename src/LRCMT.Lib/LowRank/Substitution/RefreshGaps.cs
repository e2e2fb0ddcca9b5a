using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank.Substitution;

/// <summary>
/// The plain-words block the report (and strict mode's error) gives when layers adapted in place are not refreshed
/// automatically: which layers, why (one clause per kind of module on their paths), and the exact fix.
/// </summary>
internal static class RefreshGaps
{
    /// <summary>The block as three lines (what, why, fix), or null when every layer is refreshed by some module's <c>.call</c>.</summary>
    public static IReadOnlyList<string>? Describe(IReadOnlyDictionary<string, HookCoverage.Result> coverage, nn.Module root)
    {
        var gaps = coverage.Where(c => c.Value.RefreshedBy is null).ToList();
        if (gaps.Count == 0) return null;
        var clauses = gaps.SelectMany(g => g.Value.Why)
            .GroupBy(c => (c.Kind, c.ModuleType, c.Invoker, Root: c.Path.Length == 0))
            .Select(g => Clause(g.Key.Kind, g.Key.ModuleType, g.Key.Invoker, g.Key.Root, g.Select(c => c.Path).Distinct().ToList()));
        var fix = new StringBuilder("Fix: call LowRankInjector.RefreshAdapters(model) before each forward");
        if (WrapperCall(root) is { } wrapper) fix.Append($", or train {wrapper} in the model's place (its forward refreshes, then calls the model)");
        fix.Append('.');
        return
        [
            $"{gaps.Count} layer(s) adapted in place are not refreshed automatically: {Paths(gaps.Select(g => g.Key).ToList())}.",
            $"Why: {string.Join("; ", clauses)}.",
            fix.ToString(),
        ];
    }

    private static string Clause(HookCoverage.Gap kind, string type, string? invoker, bool root, List<string> paths)
    {
        string modules = $"{type} {Paths(paths)}", are = paths.Count > 1 ? "are" : "is", derive = paths.Count > 1 ? "derive" : "derives";
        return (kind, root) switch
        {
            (HookCoverage.Gap.NoHooks, true) => $"the model ({type}) derives from nn.Module, not nn.Module<…>, so it runs no forward hooks",
            (HookCoverage.Gap.OwnCall, true) => $"{invoker} is its own and runs no hooks",
            (HookCoverage.Gap.NoHooks, false) => $"{modules} {derive} from nn.Module, not nn.Module<…>, so no forward hooks run",
            (HookCoverage.Gap.ForwardCall, _) => $"{modules} {are} invoked with .forward() by {invoker}",
            (HookCoverage.Gap.OwnCall, _) => $"{modules} {are} invoked through {invoker}, its own call, which runs no hooks",
            _ => $"{invoker}'s code does not show how it invokes {modules}",
        };
    }

    private static string Paths(IReadOnlyList<string> paths)
        => string.Join(", ", paths.Take(4).Select(p => $"'{p}'")) + (paths.Count > 4 ? $", … ({paths.Count} in all)" : "");

    /// <summary><c>report.AsTrainable&lt;…&gt;()</c> with the type arguments of the root's first TorchSharp <c>IModule</c> signature, or null.</summary>
    private static string? WrapperCall(nn.Module root)
    {
        var signature = Substitution.RefreshingModules.SignatureOf(root.GetType());
        return signature is null ? null : $"report.AsTrainable<{string.Join(", ", signature.Select(NameOf))}>()";
    }

    /// <summary>A type as C# code names it: <c>MlpBlock&lt;Linear&gt;</c>, <c>Tuple&lt;Tensor, Tensor&gt;</c>, <c>long</c>.</summary>
    public static string NameOf(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner) return NameOf(inner) + "?";
        if (!type.IsGenericType) return type.Name switch { "Boolean" => "bool", "Int32" => "int", "Int64" => "long", "Double" => "double", "Single" => "float", "String" => "string", var n => n };
        var name = type.Name[..type.Name.IndexOf('`')];
        return $"{name}<{string.Join(", ", type.GetGenericArguments().Select(NameOf))}>";
    }
}
