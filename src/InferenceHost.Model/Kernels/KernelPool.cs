using System.Diagnostics;

namespace InferenceHost.Model.Kernels;

/// <summary>
/// Threads that stay alive between decode products (llama.cpp's model): one product at a time is split into
/// chunks of output rows that the caller and the workers claim with one interlocked counter, so a call
/// allocates nothing and a slow (descheduled) thread only delays the chunk it holds. Workers spin for a
/// short while after a product (the next one usually follows within microseconds) and then block, so an
/// idle server burns no CPU. A caller that finds the pool busy (another model on another thread) runs its
/// product alone rather than waiting. Several products that read the same activations (a layer's q, k and v;
/// its gate and up) go in one hand-off: their output rows are numbered one after the other and chunked as one
/// product's, each chunk computed from its own part's weight.
/// </summary>
internal sealed class KernelPool
{
    private const int ChunksPerThread = 4;
    private const int RowAlign = 8;

    /// <summary>The most products one hand-off takes (q, k, v).</summary>
    public const int MaxParts = 3;
    private static readonly long SpinTicks = Stopwatch.Frequency / 20000; // 50 µs: the next product of a layer usually follows within it; longer spins take the core from libtorch's threads between products

    private readonly object runLock = new();
    private readonly object wake = new();
    private readonly int workers;
    private readonly ProductJob[] parts = new ProductJob[MaxParts];
    private int partCount;
    private int totalRows;
    private int chunkRows;
    private int chunks;
    private long claim; // generation << 32 | next chunk index: a thread that woke for an older product claims nothing
    private int completed;
    private long generation;

    public KernelPool(int threads)
    {
        Threads = Math.Max(1, threads);
        workers = Threads - 1;
        for (var i = 0; i < workers; i++)
        {
            new Thread(WorkerLoop) { IsBackground = true, Name = $"decode-kernel-{i}" }.Start();
        }
    }

    /// <summary>One thread per core the process may use.</summary>
    public static KernelPool Shared { get; } = new(Environment.ProcessorCount);

    public int Threads { get; }

    /// <summary>Runs <paramref name="product"/> over all its output rows, split across the pool's threads.</summary>
    public void Run(in ProductJob product) => Run(new ReadOnlySpan<ProductJob>(in product));

    /// <summary>
    /// Runs every product in <paramref name="products"/> (at most <see cref="MaxParts"/>) over all its output rows
    /// in one hand-off. A row's arithmetic does not depend on which chunk holds it, so each product's output is
    /// the same as from a hand-off of its own.
    /// </summary>
    public void Run(ReadOnlySpan<ProductJob> products)
    {
        if (products.Length > MaxParts)
        {
            throw new ArgumentException($"one hand-off takes at most {MaxParts} products, got {products.Length}", nameof(products));
        }

        var rows = 0;
        var work = 0L;
        foreach (ref readonly var p in products)
        {
            rows += p.Out;
            work += (long)p.Out * p.In * p.M;
        }

        // Below ~64k multiply-adds a wake-up costs more than it saves.
        if (workers == 0 || work < 65536 || rows < 2 * RowAlign || !Monitor.TryEnter(runLock))
        {
            foreach (ref readonly var p in products)
            {
                p.Run(0, p.Out);
            }

            return;
        }

        try
        {
            products.CopyTo(parts);
            partCount = products.Length;
            totalRows = rows;
            var size = (rows + (Threads * ChunksPerThread) - 1) / (Threads * ChunksPerThread);
            chunkRows = (size + RowAlign - 1) / RowAlign * RowAlign;
            chunks = (rows + chunkRows - 1) / chunkRows;
            Volatile.Write(ref completed, 0);
            long gen;
            lock (wake)
            {
                gen = ++generation;
                Interlocked.Exchange(ref claim, gen << 32); // publishes the job: its chunks can be claimed only from here on
                Monitor.PulseAll(wake);
            }

            Work(gen);
            var spin = default(SpinWait);
            while (Volatile.Read(ref completed) < chunks)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }
        finally
        {
            Array.Clear(parts);
            partCount = 0;
            Monitor.Exit(runLock);
        }
    }

    private void Work(long gen)
    {
        while (true)
        {
            var v = Volatile.Read(ref claim);
            if (v >> 32 != gen || (int)v >= chunks)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref claim, v + 1, v) != v)
            {
                continue;
            }

            var start = (int)v * chunkRows;
            RunRows(start, Math.Min(totalRows, start + chunkRows));
            Interlocked.Increment(ref completed);
        }
    }

    /// <summary>Rows [<paramref name="start"/>, <paramref name="end"/>) of the hand-off, each part's share from its own weight.</summary>
    private void RunRows(int start, int end)
    {
        var offset = 0;
        for (var i = 0; i < partCount && offset < end; i++)
        {
            ref readonly var p = ref parts[i];
            var lo = Math.Max(start, offset);
            var hi = Math.Min(end, offset + p.Out);
            if (lo < hi)
            {
                p.Run(lo - offset, hi - offset);
            }

            offset += p.Out;
        }
    }

    private void WorkerLoop()
    {
        long seen = 0;
        while (true)
        {
            var until = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref generation) == seen && Stopwatch.GetTimestamp() < until)
            {
                Thread.SpinWait(32);
            }

            lock (wake)
            {
                while (generation == seen)
                {
                    Monitor.Wait(wake);
                }

                seen = generation;
            }

            Work(seen);
        }
    }
}
