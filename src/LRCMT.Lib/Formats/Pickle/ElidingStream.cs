namespace LRCMT.Formats.Pickle;

/// <summary>
/// Reads a pickle with some byte ranges (whole bytes opcodes, found by <see cref="PickleGlobalGuard"/>) replaced by the
/// single opcode NONE, so values too large for a .NET array reach the unpickler as None instead of failing the load.
/// </summary>
internal sealed class ElidingStream(Stream inner, IReadOnlyList<(long Start, long End)> ranges) : Stream
{
    private const byte NoneOpcode = (byte)'N';
    private int _next;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        long position = inner.Position;
        if (_next < ranges.Count && position == ranges[_next].Start)
        {
            inner.Seek(ranges[_next].End, SeekOrigin.Begin);
            _next++;
            buffer[0] = NoneOpcode;
            return 1;
        }
        int limit = _next < ranges.Count ? (int)Math.Min(buffer.Length, ranges[_next].Start - position) : buffer.Length;
        return inner.Read(buffer[..limit]);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    // Kept: a Stream, not a module; it owns the stream it wraps.
    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
