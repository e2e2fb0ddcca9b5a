using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LRCMT.Kernels;

/// <summary>
/// The float32 product of a projection, c = a·wᵀ + b, with AVX-512 register tiles. It exists because the MKL inside
/// libtorch runs a generic code path on CPUs that are not Intel's: on this project's AMD (Zen 5) machine every
/// projection shape ran at 83–89 GFLOP/s through libtorch where this kernel reaches ~170–190 (docs/performance.md).
/// </summary>
/// <remarks>
/// Layout (the usual one for broadcast-and-FMA kernels): the weight is copied per call into panels of
/// <see cref="ColumnTile"/> output columns, each stored k-major (for every k, the 32 weights of the panel's columns side by
/// side), so a tile of <see cref="RowTile"/> rows × 32 columns keeps its 24 accumulators in registers and reads, per k,
/// two weight vectors and one broadcast element of each input row. Sums run over k in order, starting from the bias.
/// The weight is packed on every call rather than cached (nothing in TorchSharp tells when a tensor was changed in place):
/// against libtorch's slower product it pays off from about 40 rows, which is why <see cref="CpuProjection"/> leaves
/// shorter inputs to libtorch.
/// </remarks>
internal static unsafe class Sgemm
{
    /// <summary>Rows of one register tile.</summary>
    internal const int RowTile = 12;

    /// <summary>Output columns of one register tile: two 16-lane vectors.</summary>
    internal const int ColumnTile = 32;

    // Input rows per block: a block's rows (RowBlockFloats floats) stay in the core's L2 while every panel passes over them.
    private const int RowBlockFloats = 96 * 1024;

    /// <summary>True where the CPU and the runtime run 512-bit vectors natively.</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    /// <summary>
    /// c[rows, n] = a[rows, k]·w[n, k]ᵀ + bias[n] (bias may be null): a projection's forward. Every array dense and
    /// row-major. Runs on <paramref name="threads"/> threads of the .NET pool (1: the calling thread only).
    /// </summary>
    public static void MultiplyTransposed(float* a, long rows, float* w, int n, int k, float* bias, float* c, int threads)
        => Multiply(a, rows, w, n, k, bias, c, threads, transposed: true);

    /// <summary>
    /// c[rows, n] = a[rows, k]·w[k, n]: a projection's input gradient (the output gradient times the [out, in] weight).
    /// Every array dense and row-major.
    /// </summary>
    public static void MultiplyPlain(float* a, long rows, float* w, int n, int k, float* c, int threads)
        => Multiply(a, rows, w, n, k, null, c, threads, transposed: false);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled once, optimised: no tier-up in the middle of a forward
    private static void Multiply(float* a, long rows, float* w, int n, int k, float* bias, float* c, int threads, bool transposed)
    {
        if (!IsSupported) throw new PlatformNotSupportedException("Sgemm needs AVX-512.");
        if (rows <= 0 || n <= 0) return;
        int panels = (n + ColumnTile - 1) / ColumnTile;
        long packedFloats = (long)panels * ColumnTile * Math.Max(k, 0);
        long scratchFloats = packedFloats + (long)panels * ColumnTile + 16;
        if (scratchFloats > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(n), "The weight is too large to pack.");
        var scratch = Scratch.Take(scratchFloats);
        try
        {
            // 64-byte aligned: every packed vector load stays within one cache line.
            float* packed = (float*)(((nint)scratch.Pointer + 63) & ~(nint)63);
            float* paddedBias = bias is null ? null : packed + packedFloats;
            var job = new Job(a, rows, w, transposed, n, k, bias, c, packed, paddedBias, panels);
            int workers = Math.Max(1, threads);
            if (workers == 1)
            {
                for (int p = 0; p < panels; p++) job.Pack(p);
                for (long item = 0; item < job.Items; item++) job.Run(item);
            }
            else
            {
                var options = new ParallelOptions { MaxDegreeOfParallelism = workers };
                Parallel.For(0, panels, options, p => job.Pack(p));
                Parallel.For(0L, job.Items, options, item => job.Run(item));
            }
        }
        finally
        {
            Scratch.Give(scratch);
        }
    }

    /// <summary>
    /// The packed weight's memory: one native block kept for the process and grown to the largest weight packed so far
    /// (MiniLM: 2.4 MB, bert-base: 9.4 MB), so that a forward allocates nothing — a block allocated and freed per call
    /// costs page faults on every call (measured: ~170 per MiniLM forward). A call that finds it taken (another thread
    /// is projecting) uses a block of its own, freed after the call.
    /// </summary>
    private sealed class Scratch
    {
        private static Scratch? _kept;

        public float* Pointer { get; }

        public long Floats { get; }

        private Scratch(long floats)
        {
            Pointer = (float*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)floats, sizeof(float));
            Floats = floats;
        }

        public static Scratch Take(long floats)
        {
            var kept = Interlocked.Exchange(ref _kept, null);
            if (kept is not null && kept.Floats >= floats) return kept;
            kept?.Free();
            return new Scratch(floats);
        }

        public static void Give(Scratch scratch)
        {
            var other = Interlocked.Exchange(ref _kept, scratch);
            if (other is null) return;
            // Two calls ran at once: keep the larger block.
            if (other.Floats > scratch.Floats && Interlocked.CompareExchange(ref _kept, other, scratch) == scratch) scratch.Free();
            else other.Free();
        }

        private void Free() => System.Runtime.InteropServices.NativeMemory.Free(Pointer);
    }

    // Pointers and sizes of one call, shared by the pool's threads (a class: lambdas cannot capture pointers' scope).
    private sealed class Job(float* a, long rows, float* w, bool transposed, int n, int k, float* bias, float* c, float* packed, float* paddedBias, int panels)
    {
        private readonly int _blockRows = Math.Max(RowTile, RowBlockFloats / Math.Max(k, 1) / RowTile * RowTile);

        private long RowBlocks => (rows + _blockRows - 1) / _blockRows;

        /// <summary>Work items: one per (row block, panel), row block outermost so a block is reused while it is hot.</summary>
        public long Items => RowBlocks * panels;

        /// <summary>Copies the weight's output columns [32p, 32p + 32) into panel p, zero past the last column (and the bias).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Pack(int p)
        {
            float* dst = packed + (long)p * k * ColumnTile;
            int first = p * ColumnTile, count = Math.Min(ColumnTile, n - first);
            if (!transposed)
            {
                // w is [k, n]: the panel's row i is a piece of w's row i.
                for (int i = 0; i < k; i++)
                {
                    var row = new Span<float>(dst + (long)i * ColumnTile, ColumnTile);
                    new ReadOnlySpan<float>(w + (long)i * n + first, count).CopyTo(row);
                    row[count..].Clear();
                }
            }
            else
            {
                // w is [n, k]: the panel's column j is w's row first + j. Written k-row by k-row, 16 columns at a time:
                // each 64-byte line of the panel is filled at once (column by column, 3.5× slower), and 16 source rows
                // stay within the L1 cache's ways even when their stride is a multiple of 4 KiB (32 did not).
                float** source = stackalloc float*[16];
                for (int half = 0; half < ColumnTile; half += 16)
                {
                    int valid = Math.Clamp(count - half, 0, 16);
                    for (int j = 0; j < valid; j++) source[j] = w + (long)(first + half + j) * k;
                    float* row = dst + half;
                    for (int i = 0; i < k; i++, row += ColumnTile)
                    {
                        for (int j = 0; j < valid; j++) row[j] = source[j][i];
                        for (int j = valid; j < 16; j++) row[j] = 0f;
                    }
                }
            }
            if (paddedBias is not null)
                for (int j = 0; j < ColumnTile; j++) paddedBias[first + j] = j < count ? bias[first + j] : 0f;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(long item)
        {
            int p = (int)(item % panels);
            long firstRow = item / panels * _blockRows, endRow = Math.Min(rows, firstRow + _blockRows);
            float* panel = packed + (long)p * k * ColumnTile;
            float* panelBias = paddedBias is null ? null : paddedBias + (long)p * ColumnTile;
            int firstColumn = p * ColumnTile, columns = Math.Min(ColumnTile, n - firstColumn);
            float* edge = stackalloc float[RowTile * ColumnTile];
            for (long row = firstRow; row < endRow; row += RowTile)
            {
                int tileRows = (int)Math.Min(RowTile, endRow - row);
                float* target = c + row * n + firstColumn;
                if (tileRows == RowTile && columns == ColumnTile)
                {
                    Tile(a + row * k, k, tileRows, panel, k, panelBias, target, n);
                }
                else
                {
                    // A partial tile computes into a full scratch tile (its missing rows repeat the last one), then copies.
                    Tile(a + row * k, k, tileRows, panel, k, panelBias, edge, ColumnTile);
                    for (int r = 0; r < tileRows; r++)
                        new ReadOnlySpan<float>(edge + r * ColumnTile, columns).CopyTo(new Span<float>(target + (long)r * n, columns));
                }
            }
        }
    }

    /// <summary>One 12 × 32 tile: out[r, j] = bias[j] + Σᵢ a[r, i]·panel[i, j], rows past <paramref name="validRows"/> reading the last valid row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(float* a, long lda, int validRows, float* panel, int k, float* bias, float* output, long ldo)
    {
        float* a0 = a;
        float* a1 = a + lda * Math.Min(1, validRows - 1);
        float* a2 = a + lda * Math.Min(2, validRows - 1);
        float* a3 = a + lda * Math.Min(3, validRows - 1);
        float* a4 = a + lda * Math.Min(4, validRows - 1);
        float* a5 = a + lda * Math.Min(5, validRows - 1);
        float* a6 = a + lda * Math.Min(6, validRows - 1);
        float* a7 = a + lda * Math.Min(7, validRows - 1);
        float* a8 = a + lda * Math.Min(8, validRows - 1);
        float* a9 = a + lda * Math.Min(9, validRows - 1);
        float* a10 = a + lda * Math.Min(10, validRows - 1);
        float* a11 = a + lda * Math.Min(11, validRows - 1);
        Vector512<float> low = bias is null ? Vector512<float>.Zero : Vector512.Load(bias);
        Vector512<float> high = bias is null ? Vector512<float>.Zero : Vector512.Load(bias + 16);
        Vector512<float> c00 = low, c01 = high, c10 = low, c11 = high, c20 = low, c21 = high, c30 = low, c31 = high;
        Vector512<float> c40 = low, c41 = high, c50 = low, c51 = high, c60 = low, c61 = high, c70 = low, c71 = high;
        Vector512<float> c80 = low, c81 = high, c90 = low, c91 = high, ca0 = low, ca1 = high, cb0 = low, cb1 = high;
        float* b = panel;
        // Written out row by row: 24 named accumulators stay in registers (32 on AVX-512); an array or an inner loop over
        // the rows would put them in memory.
        for (int i = 0; i < k; i++, b += ColumnTile)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), x;
            x = Vector512.Create(a0[i]); c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[i]); c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[i]); c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[i]); c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[i]); c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[i]); c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[i]); c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[i]); c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(a8[i]); c80 = Vector512.FusedMultiplyAdd(x, b0, c80); c81 = Vector512.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(a9[i]); c90 = Vector512.FusedMultiplyAdd(x, b0, c90); c91 = Vector512.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(a10[i]); ca0 = Vector512.FusedMultiplyAdd(x, b0, ca0); ca1 = Vector512.FusedMultiplyAdd(x, b1, ca1);
            x = Vector512.Create(a11[i]); cb0 = Vector512.FusedMultiplyAdd(x, b0, cb0); cb1 = Vector512.FusedMultiplyAdd(x, b1, cb1);
        }
        float* o = output;
        c00.Store(o); c01.Store(o + 16); o += ldo; c10.Store(o); c11.Store(o + 16); o += ldo;
        c20.Store(o); c21.Store(o + 16); o += ldo; c30.Store(o); c31.Store(o + 16); o += ldo;
        c40.Store(o); c41.Store(o + 16); o += ldo; c50.Store(o); c51.Store(o + 16); o += ldo;
        c60.Store(o); c61.Store(o + 16); o += ldo; c70.Store(o); c71.Store(o + 16); o += ldo;
        c80.Store(o); c81.Store(o + 16); o += ldo; c90.Store(o); c91.Store(o + 16); o += ldo;
        ca0.Store(o); ca1.Store(o + 16); o += ldo; cb0.Store(o); cb1.Store(o + 16);
    }
}
