using System.Collections;
using Razorvine.Pickle;

namespace LRCMT.Formats.Pickle;

/// <summary>
/// The Razorvine.Pickle constructors for the globals <see cref="PickleGlobalGuard"/> allows: each turns numpy's
/// pickled form back into plain data (<see cref="NumpyArrayState"/>, <see cref="NumpyDType"/>, scalars) and never
/// calls anything else.
/// </summary>
internal static class NumpyConstructors
{
    private static readonly object Gate = new();
    private static bool _registered;

    /// <summary>Registers the constructors once. Razorvine keeps them in a process-wide table.</summary>
    public static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (_registered) return;
            foreach (var core in new[] { "numpy.core", "numpy._core" })
            {
                Unpickler.registerConstructor($"{core}.multiarray", "_reconstruct", new Reconstruct());
                Unpickler.registerConstructor($"{core}.multiarray", "scalar", new Scalar());
                Unpickler.registerConstructor($"{core}.numeric", "_frombuffer", new FromBuffer());
            }
            Unpickler.registerConstructor("numpy", "dtype", new DType());
            Unpickler.registerConstructor("numpy", "ndarray", new NdArrayClass());
            _registered = true;
        }
    }

    /// <summary>The class object <c>numpy.ndarray</c>, passed as the first argument of <c>_reconstruct</c>.</summary>
    private sealed class NdArrayClass : IObjectConstructor
    {
        public object construct(object[] args) =>
            throw new NotSupportedException("numpy.ndarray(...) called directly; only numpy's own pickled arrays are supported");
    }

    /// <summary><c>_reconstruct(ndarray, (0,), b"b")</c>: an empty array that BUILD then fills.</summary>
    private sealed class Reconstruct : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length != 3 || args[0] is not NdArrayClass)
                throw new NotSupportedException("numpy _reconstruct is only supported for numpy.ndarray");
            return new NumpyArrayState();
        }
    }

    /// <summary><c>dtype("f4", False, True)</c>.</summary>
    private sealed class DType : IObjectConstructor
    {
        public object construct(object[] args) => args.Length >= 1 && args[0] is string descriptor
            ? new NumpyDType(descriptor)
            : throw new NotSupportedException("numpy dtype without a type code");
    }

    /// <summary><c>scalar(dtype, bytes)</c>: one numpy scalar, e.g. <c>np.float64(0.5)</c>; object scalars carry the object.</summary>
    private sealed class Scalar : IObjectConstructor
    {
        public object? construct(object[] args)
        {
            if (args.Length != 2 || args[0] is not NumpyDType dtype)
                throw new NotSupportedException("numpy scalar without a dtype");
            if (dtype.IsObject) return args[1];
            return dtype.Decode(ToBytes(args[1]), 1).GetValue(0);
        }
    }

    /// <summary>Protocol 5's <c>_frombuffer(buffer, dtype, shape, order)</c>.</summary>
    private sealed class FromBuffer : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length != 4 || args[1] is not NumpyDType dtype || args[2] is not object[] shape || args[3] is not string order)
                throw new NotSupportedException("numpy _frombuffer arguments are not (buffer, dtype, shape, order)");
            var state = new NumpyArrayState();
            state.__setstate__([1, shape, dtype, order == "F", ToBytes(args[0])]);
            return state;
        }
    }

    internal static byte[] ToBytes(object? value) => value switch
    {
        byte[] bytes => bytes,
        ReadOnlyMemory<byte> memory => memory.ToArray(),
        string latin1 => System.Text.Encoding.Latin1.GetBytes(latin1), // protocol 0/1 spell bytes as str
        _ => throw new NotSupportedException($"expected bytes for numpy data, got {value?.GetType().Name ?? "None"}"),
    };

    internal static long[] ToShape(object value) => value is object[] dims
        ? Array.ConvertAll(dims, d => Convert.ToInt64(d))
        : throw new NotSupportedException($"numpy shape is a {value.GetType().Name}, not a tuple");

    internal static object?[] ToObjects(object value) => value switch
    {
        ArrayList list => list.Cast<object?>().ToArray(),
        object[] tuple => tuple,
        _ => throw new NotSupportedException($"numpy object array data is a {value.GetType().Name}, not a list"),
    };
}
