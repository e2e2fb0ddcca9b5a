using System.Collections;
using LRCMT.Errors;

namespace LRCMT.Formats.Pickle;

/// <summary>
/// Turns Razorvine's object graph (Hashtable, ArrayList, object[], HashSet, numpy states) into the documented plain
/// .NET types without recursion: an explicit work list walks the graph, so a hostile pickle nested 100,000 deep
/// cannot overflow the thread's stack. Nesting beyond <see cref="MaxDepth"/> is refused with a typed error, because
/// no data pickle needs it and callers walking the result recursively would overflow instead.
/// </summary>
internal static class PlainObjectConverter
{
    /// <summary>Deepest container nesting accepted (Python's own pickler stops near 1,000 levels as well).</summary>
    public const int MaxDepth = 1000;

    /// <summary>Converts <paramref name="root"/>; shared references stay shared and cycles stay cycles.</summary>
    /// <exception cref="CorruptFileException">The data nests deeper than <see cref="MaxDepth"/>.</exception>
    public static object? Convert(object? root, string source)
    {
        var done = new Dictionary<object, object?>(ReferenceEqualityComparer.Instance);
        var work = new Stack<(object Source, object Target, int Depth)>();
        object? result = Shell(root, 0, done, work, source);
        while (work.Count > 0)
        {
            var (from, to, depth) = work.Pop();
            object? Child(object? value) => Shell(value, depth + 1, done, work, source);
            switch (from)
            {
                case Hashtable table:
                    var dict = (Dictionary<object, object?>)to;
                    foreach (DictionaryEntry e in table)
                        dict[Child(e.Key) ?? throw new CorruptFileException(source, null, "a dict key is None")] = Child(e.Value);
                    break;
                case ArrayList list:
                    var items = (List<object?>)to;
                    foreach (var item in list) items.Add(Child(item));
                    break;
                case object[] tuple:
                    var copy = (object?[])to;
                    for (int i = 0; i < tuple.Length; i++) copy[i] = Child(tuple[i]);
                    break;
                case HashSet<object> set:
                    var plainSet = (HashSet<object>)to;
                    foreach (var item in set) plainSet.Add(Child(item) ?? throw new CorruptFileException(source, null, "a set holds None"));
                    break;
            }
        }
        return result;
    }

    /// <summary>Returns the converted value, creating an empty container (filled later from the work list) on first sight.</summary>
    private static object? Shell(object? value, int depth, Dictionary<object, object?> done, Stack<(object, object, int)> work, string source)
    {
        if (value is null or string or byte[] || value.GetType().IsPrimitive) return value;
        if (done.TryGetValue(value, out var converted)) return converted;
        if (value is NumpyArrayState array) return done[value] = array.Array;
        object? shell = value switch
        {
            Hashtable => new Dictionary<object, object?>(),
            ArrayList list => new List<object?>(list.Count),
            object[] tuple => new object?[tuple.Length],
            HashSet<object> => new HashSet<object>(),
            _ => null,
        };
        if (shell is null) return value; // BigInteger, decimal, DateTime, ComplexNumber and other Razorvine value types
        if (depth > MaxDepth)
            throw new CorruptFileException(source, null,
                $"the pickled data nests containers more than {MaxDepth} levels deep (depth {depth} reached); this is not a data file this library reads");
        done[value] = shell;
        work.Push((value, shell, depth));
        return shell;
    }
}
