using TorchSharp;
using static TorchSharp.torch;

namespace LRCMT.LowRank;

/// <summary>
/// A minimal name → module container whose children are registered under their names (so parameters appear as
/// <c>&lt;container&gt;.&lt;name&gt;.weight</c>, like PEFT's <c>ModuleDict</c>). TorchSharp's own <c>ModuleDict</c> is
/// not used because its two indexers make <c>Module.to(device)</c> fail in TorchSharp 0.107.
/// </summary>
internal sealed class NamedModules<T> : nn.Module where T : nn.Module
{
    // Not a module or tensor, so TorchSharp does not register the dictionary itself.
    private readonly Dictionary<string, T> _items = [];

    public NamedModules() : base(nameof(NamedModules<T>)) { }

    public IReadOnlyCollection<string> Names => _items.Keys;

    public T Get(string name) => _items[name];

    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out T module) => _items.TryGetValue(name, out module);

    public bool Contains(string name) => _items.ContainsKey(name);

    public void Add(string name, T module)
    {
        _items.Add(name, module);
        register_module(name, module);
    }

    /// <summary>Unregisters and returns the module named <paramref name="name"/> (the caller disposes it).</summary>
    public T Remove(string name)
    {
        var module = _items[name];
        _items.Remove(name);
        var registered = (TorchSharp.Utils.OrderedDict<string, nn.Module>)RegisteredChildren.GetValue(this)!;
        registered.Remove(name);
        return module;
    }

    private static readonly System.Reflection.FieldInfo RegisteredChildren =
        typeof(nn.Module).GetField("_internal_submodules", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("This TorchSharp version keeps child modules elsewhere; LRCMT.Lib needs TorchSharp 0.107.");
}
