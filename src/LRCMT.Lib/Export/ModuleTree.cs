using LRCMT.Errors;
using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.Export;

/// <summary>
/// Reads a module's registered children and tensors by name for the exporter, and refuses anything it did not expect:
/// a missing child, a child of another type, or a child or parameter the exporter would silently leave out.
/// </summary>
internal static class ModuleTree
{
    /// <summary>The child <paramref name="name"/> of <paramref name="module"/>, which must be a <typeparamref name="T"/>.</summary>
    public static T Child<T>(nn.Module module, GraphScope scope, string name) where T : nn.Module
    {
        var child = ChildOrNull(module, name);
        return child switch
        {
            T typed => typed,
            null => throw new UnsupportedModuleException(scope.Path, module.GetType().Name, $"it has no child '{name}' ({typeof(T).Name} expected)."),
            _ => throw Unsupported(scope.Child(name), child, $"a {typeof(T).Name} is expected here."),
        };
    }

    /// <summary>The child <paramref name="name"/>, or null when the module has none.</summary>
    public static nn.Module? ChildOrNull(nn.Module module, string name) =>
        module.named_children().Where(c => c.name == name).Select(c => c.module).FirstOrDefault();

    /// <summary>A parameter or buffer registered directly on <paramref name="module"/>.</summary>
    public static Tensor Tensor(nn.Module module, GraphScope scope, string name) =>
        TensorOrNull(module, name) ?? throw new UnsupportedModuleException(scope.Path, module.GetType().Name, $"it has no parameter '{name}'.");

    /// <summary>A parameter or buffer registered directly on <paramref name="module"/>, or null.</summary>
    public static Tensor? TensorOrNull(nn.Module module, string name) =>
        module.named_parameters(recurse: false).Where(p => p.name == name).Select(p => (Tensor)p.parameter).FirstOrDefault()
        ?? module.named_buffers(recurse: false).Where(b => b.name == name).Select(b => b.buffer).FirstOrDefault();

    /// <summary>
    /// Throws unless <paramref name="module"/>'s children and own tensors are among the named ones: whatever else is
    /// registered would take part in the forward pass the exporter does not know about.
    /// </summary>
    public static void RequireOnly(nn.Module module, GraphScope scope, string[] children, string[]? tensors = null)
    {
        foreach (var (name, child) in module.named_children())
            if (!children.Contains(name)) throw Unsupported(scope.Child(name), child, $"the exporter does not know this child of {module.GetType().Name}.");
        var known = tensors ?? [];
        foreach (var (name, _) in module.named_parameters(recurse: false))
            if (!known.Contains(name)) throw new UnsupportedModuleException(scope.Path, module.GetType().Name, $"the exporter does not know its parameter '{name}'.");
        foreach (var (name, _) in module.named_buffers(recurse: false))
            if (!known.Contains(name)) throw new UnsupportedModuleException(scope.Path, module.GetType().Name, $"the exporter does not know its buffer '{name}'.");
    }

    /// <summary>A child that inference skips (a dropout): it must be one, or the graph would leave out a real operation.</summary>
    public static void RequireDropout(nn.Module module, GraphScope scope, string name)
    {
        var child = ChildOrNull(module, name);
        if (child is not null and not Regularization.MaskDropoutModule and not TorchSharp.Modules.Dropout)
            throw Unsupported(scope.Child(name), child, "a dropout is expected here (it is left out at inference).");
    }

    public static UnsupportedModuleException Unsupported(GraphScope scope, nn.Module module, string problem) =>
        new(scope.Path, module.GetType().Name, problem);
}
