namespace LRCMT.Tests.Fuzz;

/// <summary>
/// Random pickle programs: well-formed opcodes with hostile arguments and orders — forbidden globals, lengths past the
/// end, memo reads before writes, unbalanced marks, deep nesting, numpy states that lie about shape and dtype.
/// </summary>
internal static class HostilePickleGenerator
{
    private static readonly (string Module, string Name)[] Globals =
    [
        ("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("numpy.core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"), ("_codecs", "encode"), ("builtins", "getattr"),
    ];

    private static readonly string[] DTypes = ["f4", "f8", "i8", "U0", "U3", "O8", "b1", "f2", "S0", "u2", "x9", "f-4", "U99999999"];

    public static (byte[] Bytes, string How) Generate(Random random)
    {
        var p = new PickleBuilder().Proto(random.Next(2, 6));
        int ops = 1 + random.Next(40);
        var log = new List<string>();
        for (int i = 0; i < ops; i++)
        {
            int choice = random.Next(22);
            log.Add(choice.ToString(System.Globalization.CultureInfo.InvariantCulture));
            switch (choice)
            {
                case 0: p.EmptyList(); break;
                case 1: p.EmptyDict(); break;
                case 2: p.Mark(); break;
                case 3: p.Append(); break;
                case 4: p.Appends(); break;
                case 5: p.SetItem(); break;
                case 6: p.Tuple(); break;
                case 7: p.Int(random.Next(2) == 0 ? random.Next(300) : random.NextInt64(long.MinValue, long.MaxValue)); break;
                case 8: p.Str(new string('a', random.Next(5))); break;
                case 9: p.Float(random.Next(3) switch { 0 => double.NaN, 1 => double.PositiveInfinity, _ => random.NextDouble() }); break;
                case 10: var g = Globals[random.Next(Globals.Length)]; p.Global(g.Module, g.Name); break;
                case 11: p.Reduce(); break;
                case 12: p.Build(); break;
                case 13: p.Memoize(); break;
                case 14: p.Get(random.Next(4)); break;
                case 15: p.Op(0x8e).Int64(random.Next(2) == 0 ? random.NextInt64() : random.Next(64)); break; // BINBYTES8 with any length
                case 16: p.Bytes(new byte[random.Next(20)]); break;
                case 17:
                    var shape = Enumerable.Range(0, random.Next(4)).Select(_ => random.Next(3) == 0 ? random.NextInt64(-2, long.MaxValue) : random.Next(5)).ToArray();
                    var data = new byte[random.Next(40)];
                    random.NextBytes(data);
                    p.Array(DTypes[random.Next(DTypes.Length)], shape, data, fortran: random.Next(4) == 0);
                    break;
                case 18: int depth = random.Next(3) == 0 ? 5000 : random.Next(50); for (int d = 0; d < depth; d++) p.EmptyList(); for (int d = 0; d < depth; d++) p.Append(); break;
                case 19: p.Tuple3(); break;
                case 20: p.Pop(); break;
                default: p.Op((byte)random.Next(256)); break;
            }
        }
        if (random.Next(5) != 0) p.Stop();
        return (p.ToArray(), $"ops [{string.Join(",", log)}]");
    }
}
