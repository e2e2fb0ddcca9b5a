using System.Buffers.Binary;
using System.Text;
using LRCMT.Errors;

namespace LRCMT.Formats.Pickle;

/// <summary>
/// Walks every opcode of a pickle without building anything and refuses the file if it imports a global that is
/// not on <see cref="AllowedGlobals"/>. Razorvine.Pickle has no hook for refusing globals (unknown names silently
/// become dictionaries), so the check runs as a separate pass before Razorvine sees a byte.
/// </summary>
/// <remarks>
/// <c>STACK_GLOBAL</c> takes its module and name from the stack, so the walk keeps a symbolic stack and memo that
/// know literal strings; a global whose name is not a literal string is refused as well. Opcodes that reach objects
/// outside the stream (persistent ids, the copyreg extension registry) are refused outright. The symbolic stack also
/// knows None, so an opcode that would call, build or fill None (which no pickler writes) is reported here with its
/// name and offset, instead of as the unpickler's own null-reference failure.
/// </remarks>
internal static class PickleGlobalGuard
{
    /// <summary>The only importable names: numpy's array, dtype and scalar re-constructors (numpy 1 and 2 spellings)
    /// and <c>_codecs.encode</c>, which protocol 2 uses to spell a bytes object.</summary>
    public static readonly IReadOnlySet<string> AllowedGlobals = new HashSet<string>(StringComparer.Ordinal)
    {
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
        "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
        "numpy.ndarray", "numpy.dtype",
        "_codecs.encode",
    };

    private const int HighestProtocol = 5;
    private static readonly object Mark = new();
    private static readonly object Opaque = new();
    private static readonly object NoneValue = new();

    /// <summary>
    /// Checks the whole stream; throws <see cref="UnsafePickleException"/> or <see cref="CorruptFileException"/>.
    /// Returns the byte ranges (opcode to end of payload) of bytes values longer than <paramref name="maxInlineBytes"/>,
    /// which the reader replaces by None because a .NET array cannot hold them.
    /// </summary>
    /// <param name="stream">The pickle; read up to and including its STOP opcode.</param>
    /// <param name="source">Names the pickle in errors.</param>
    /// <param name="maxInlineBytes">Bytes values longer than this are reported for eliding.</param>
    /// <param name="allowed">The importable globals; <see cref="AllowedGlobals"/> when null.</param>
    /// <param name="allowPersistentIds">Whether persistent ids may appear (torch checkpoints name their storages so; the
    /// id itself is plain data checked like the rest, and the reader resolves it to an archive entry, never to code).</param>
    public static IReadOnlyList<(long Start, long End)> Check(Stream stream, string source, long maxInlineBytes = long.MaxValue,
        IReadOnlySet<string>? allowed = null, bool allowPersistentIds = false)
    {
        var reader = new OpcodeReader(stream, source, allowed ?? AllowedGlobals);
        var oversized = new List<(long Start, long End)>();
        void SkipBytes(long at, long length)
        {
            reader.Skip(length);
            if (length > maxInlineBytes) oversized.Add((at, reader.Position));
        }
        var stack = new List<object>();
        var memo = new Dictionary<long, object>();

        while (true)
        {
            long at = reader.Position;
            byte op = reader.Byte();
            switch (op)
            {
                case (byte)'.': return oversized; // STOP
                case 0x80: // PROTO
                    int protocol = reader.Byte();
                    if (protocol > HighestProtocol) throw reader.Corrupt(at, $"pickle protocol {protocol} is newer than the supported {HighestProtocol}");
                    break;
                case 0x95: reader.Skip(8); break; // FRAME
                case (byte)'(': stack.Add(Mark); break;
                case (byte)'0': Pop(stack, reader, at); break;
                case (byte)'1': PopToMark(stack, reader, at); break;
                case (byte)'2': stack.Add(Peek(stack, reader, at)); break;

                // Scalars and strings: only unicode strings are remembered (they may name a global).
                case (byte)'F': case (byte)'I': case (byte)'L': case (byte)'S': case (byte)'V':
                    reader.Line(); stack.Add(Opaque); break;
                case (byte)'J': reader.Skip(4); stack.Add(Opaque); break;
                case (byte)'K': reader.Skip(1); stack.Add(Opaque); break;
                case (byte)'M': reader.Skip(2); stack.Add(Opaque); break;
                case (byte)'G': reader.Skip(8); stack.Add(Opaque); break;
                case (byte)'N': stack.Add(NoneValue); break;
                case 0x88: case 0x89: stack.Add(Opaque); break;
                case 0x8a: reader.Skip(reader.Byte()); stack.Add(Opaque); break; // LONG1
                case 0x8b: reader.Skip(reader.Length(4)); stack.Add(Opaque); break; // LONG4
                case (byte)'T': reader.Skip(reader.Length(4)); stack.Add(Opaque); break;
                case (byte)'U': reader.Skip(reader.Byte()); stack.Add(Opaque); break;
                case (byte)'B': SkipBytes(at, reader.Length(4)); stack.Add(Opaque); break; // BINBYTES
                case (byte)'C': SkipBytes(at, reader.Byte()); stack.Add(Opaque); break; // SHORT_BINBYTES
                case 0x8e: case 0x96: SkipBytes(at, reader.Length(8)); stack.Add(Opaque); break; // BINBYTES8, BYTEARRAY8
                case 0x8c: stack.Add(reader.Utf8(reader.Byte())); break; // SHORT_BINUNICODE
                case (byte)'X': stack.Add(reader.Utf8(reader.Length(4))); break; // BINUNICODE
                case 0x8d: stack.Add(reader.Utf8(reader.Length(8))); break; // BINUNICODE8

                // Containers.
                case (byte)'}': case (byte)']': case (byte)')': case 0x8f: stack.Add(Opaque); break;
                case (byte)'d': case (byte)'l': case (byte)'t': case 0x91:
                    PopToMark(stack, reader, at); stack.Add(Opaque); break;
                case (byte)'a': NotNone(stack, 2, "APPEND", "appends a value to None instead of a list", reader, at); Pop(stack, reader, at); break;
                case (byte)'b': NotNone(stack, 2, "BUILD", "sets the state of None instead of an object", reader, at); Pop(stack, reader, at); break;
                case (byte)'s': // SETITEM
                    NotNone(stack, 3, "SETITEM", "stores an item in None instead of a dict", reader, at);
                    Pop(stack, reader, at); Pop(stack, reader, at);
                    break;
                case (byte)'e': case (byte)'u': case 0x90: // APPENDS, SETITEMS, ADDITEMS
                    PopToMark(stack, reader, at);
                    NotNone(stack, 1, op == (byte)'e' ? "APPENDS" : op == (byte)'u' ? "SETITEMS" : "ADDITEMS", "adds items to None instead of a container", reader, at);
                    break;
                case 0x85: Replace(stack, 1, reader, at); break; // TUPLE1
                case 0x86: Replace(stack, 2, reader, at); break; // TUPLE2
                case 0x87: Replace(stack, 3, reader, at); break; // TUPLE3

                // Calls: their callables come from GLOBAL/STACK_GLOBAL, which are checked where they are pushed.
                case (byte)'R': // REDUCE
                    NotNone(stack, 2, "REDUCE", "calls None instead of a function or class", reader, at);
                    NotNone(stack, 1, "REDUCE", "passes None instead of an argument tuple", reader, at);
                    Replace(stack, 2, reader, at);
                    break;
                case 0x81: // NEWOBJ
                    NotNone(stack, 2, "NEWOBJ", "creates an instance of None instead of a class", reader, at);
                    NotNone(stack, 1, "NEWOBJ", "passes None instead of an argument tuple", reader, at);
                    Replace(stack, 2, reader, at);
                    break;
                case 0x92: // NEWOBJ_EX
                    NotNone(stack, 3, "NEWOBJ_EX", "creates an instance of None instead of a class", reader, at);
                    Replace(stack, 3, reader, at);
                    break;
                case (byte)'o': PopToMark(stack, reader, at); stack.Add(Opaque); break; // OBJ

                // Imports.
                case (byte)'c': // GLOBAL
                    RequireAllowed($"{reader.Line()}.{reader.Line()}", reader, at);
                    stack.Add(Opaque);
                    break;
                case (byte)'i': // INST
                    RequireAllowed($"{reader.Line()}.{reader.Line()}", reader, at);
                    PopToMark(stack, reader, at);
                    stack.Add(Opaque);
                    break;
                case 0x93: // STACK_GLOBAL
                    object name = Pop(stack, reader, at), module = Pop(stack, reader, at);
                    if (module is not string m || name is not string n)
                        throw new UnsafePickleException(source, at, "STACK_GLOBAL", "the global's module or name is not a literal string");
                    RequireAllowed($"{m}.{n}", reader, at);
                    stack.Add(Opaque);
                    break;

                // Memo.
                case (byte)'p': memo[MemoKey(reader, at)] = Peek(stack, reader, at); break;
                case (byte)'q': memo[reader.Byte()] = Peek(stack, reader, at); break;
                case (byte)'r': memo[reader.Length(4)] = Peek(stack, reader, at); break;
                case 0x94: memo[memo.Count] = Peek(stack, reader, at); break; // MEMOIZE
                case (byte)'g': stack.Add(Recall(memo, MemoKey(reader, at), reader, at)); break;
                case (byte)'h': stack.Add(Recall(memo, reader.Byte(), reader, at)); break;
                case (byte)'j': stack.Add(Recall(memo, reader.Length(4), reader, at)); break;

                // Protocol 5 buffers.
                case 0x97: stack.Add(Opaque); break; // NEXT_BUFFER
                case 0x98: Peek(stack, reader, at); break; // READONLY_BUFFER

                case (byte)'P' when allowPersistentIds: reader.Line(); stack.Add(Opaque); break; // PERSID
                case (byte)'Q' when allowPersistentIds: Replace(stack, 1, reader, at); break; // BINPERSID
                case (byte)'P': case (byte)'Q':
                    throw new UnsafePickleException(source, at, "PERSID", "persistent ids load objects from outside the file");
                case 0x82: case 0x83: case 0x84:
                    throw new UnsafePickleException(source, at, "EXT", "extension codes import globals from the copyreg registry");
                default:
                    throw reader.Corrupt(at, $"opcode 0x{op:x2} is not a pickle opcode; this is not a pickle file or it is corrupt");
            }
        }
    }

    private static void RequireAllowed(string global, OpcodeReader reader, long at)
    {
        if (!reader.Allowed.Contains(global))
            throw new UnsafePickleException(reader.Source, at, global, "this global is not on the allow-list, and loading it could run code");
    }

    /// <summary>Refuses the file when the value <paramref name="depth"/> from the top (1 = top) is None.</summary>
    private static void NotNone(List<object> stack, int depth, string opcode, string problem, OpcodeReader reader, long at)
    {
        if (stack.Count >= depth && stack[^depth] == NoneValue)
            throw reader.Corrupt(at, $"its {opcode} opcode {problem}, which no pickler writes; the file is corrupt or was not written by pickle");
    }

    private static object Pop(List<object> stack, OpcodeReader reader, long at)
    {
        object top = Peek(stack, reader, at);
        stack.RemoveAt(stack.Count - 1);
        return top;
    }

    private static object Peek(List<object> stack, OpcodeReader reader, long at) =>
        stack.Count > 0 && stack[^1] != Mark ? stack[^1] : throw reader.Corrupt(at, "an opcode needs a value but the pickle stack is empty");

    private static void PopToMark(List<object> stack, OpcodeReader reader, long at)
    {
        int mark = stack.LastIndexOf(Mark);
        if (mark < 0) throw reader.Corrupt(at, "an opcode needs a MARK but none is on the pickle stack");
        stack.RemoveRange(mark, stack.Count - mark);
    }

    private static void Replace(List<object> stack, int count, OpcodeReader reader, long at)
    {
        for (int i = 0; i < count; i++) Pop(stack, reader, at);
        stack.Add(Opaque);
    }

    private static long MemoKey(OpcodeReader reader, long at) =>
        long.TryParse(reader.Line(), out long key) ? key : throw reader.Corrupt(at, "a memo key is not a number");

    private static object Recall(Dictionary<long, object> memo, long key, OpcodeReader reader, long at) =>
        memo.TryGetValue(key, out var value) ? value : throw reader.Corrupt(at, $"memo entry {key} is read before it is written");

    /// <summary>Sequential reader of opcode arguments that reports truncation with the file name and offset.</summary>
    private sealed class OpcodeReader(Stream stream, string source, IReadOnlySet<string> allowed)
    {
        public IReadOnlySet<string> Allowed => allowed;

        private readonly byte[] _scratch = new byte[8];

        public string Source => source;

        public bool StartedWithProtocol { get; private set; }

        public long Position { get; private set; }

        public byte Byte()
        {
            int b = stream.ReadByte();
            if (b < 0) throw Corrupt(Position, "the pickle ends before its STOP opcode (truncated file)");
            if (Position == 0) StartedWithProtocol = b == 0x80;
            Position++;
            return (byte)b;
        }

        public long Length(int bytes)
        {
            Fill(_scratch.AsSpan(0, bytes));
            long length = bytes switch
            {
                4 => BinaryPrimitives.ReadInt32LittleEndian(_scratch),
                8 => BinaryPrimitives.ReadInt64LittleEndian(_scratch),
                _ => throw new ArgumentOutOfRangeException(nameof(bytes)),
            };
            if (length < 0) throw Corrupt(Position - bytes, $"negative length {length}");
            return length;
        }

        public void Skip(long count)
        {
            if (stream.CanSeek)
            {
                if (count > stream.Length - stream.Position) throw Corrupt(Position, $"a {count}-byte value runs past the end of the file (truncated file)");
                stream.Seek(count, SeekOrigin.Current);
                Position += count;
                return;
            }
            var buffer = new byte[Math.Min(count, 1 << 16)];
            while (count > 0)
            {
                int chunk = (int)Math.Min(count, buffer.Length);
                Fill(buffer.AsSpan(0, chunk));
                count -= chunk;
            }
        }

        public string Utf8(long length)
        {
            if (length > 1 << 20) { Skip(length); return "<long string>"; }
            var bytes = new byte[length];
            Fill(bytes);
            return Encoding.UTF8.GetString(bytes);
        }

        public string Line()
        {
            var bytes = new List<byte>();
            for (byte b = Byte(); b != (byte)'\n'; b = Byte()) bytes.Add(b);
            return Encoding.UTF8.GetString(bytes.ToArray());
        }

        // Protocol 0/1 pickles have no header, but a file failing without one is far more often not a pickle at all.
        public CorruptFileException Corrupt(long offset, string problem) => new(source, offset, StartedWithProtocol
            ? problem
            : problem + "; the file does not begin with a pickle protocol marker, so it is probably not a pickle");

        private void Fill(Span<byte> target)
        {
            int done = 0;
            while (done < target.Length)
            {
                int read = stream.Read(target[done..]);
                if (read == 0) throw Corrupt(Position, "the pickle ends in the middle of a value (truncated file)");
                done += read;
            }
            Position += target.Length;
        }
    }
}
