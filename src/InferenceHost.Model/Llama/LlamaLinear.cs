using InferenceHost.Model.Kernels;
using InferenceHost.Model.Quantization;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>How the linear modules store and multiply their weights.</summary>
public sealed record LinearOptions
{
    public static readonly LinearOptions Default = new();

    /// <summary>Storage of the weights; quantized ones are filled by <see cref="LlamaLinear.LoadWeight"/>.</summary>
    public WeightQuantization Quantization { get; init; } = WeightQuantization.None;

    /// <summary>In-features per scale of a quantized row (32, 64 or 128).</summary>
    public int GroupSize { get; init; } = QuantizedWeight.DefaultGroupSize;

    /// <summary>Decode-shaped CPU products through the C# kernels (<see cref="DecodeProducts"/>); false = libtorch always.</summary>
    public bool DecodeKernels { get; init; } = true;

    /// <summary>
    /// With the kernels: a layer's q, k and v products (and its gate and up) of one decode-shaped activation go to
    /// the pool in one hand-off (<see cref="LlamaLinear.Forward(IReadOnlyList{LlamaLinear}, Tensor, ILinearDelta?)"/>); false = one hand-off per module.
    /// </summary>
    public bool FuseProjections { get; init; } = true;

    /// <summary>
    /// With the kernels: a decode-sized step's residual adds with their RMSNorms, and its rotary embeddings, as one
    /// pass each (<see cref="RowKernels"/>); false = libtorch's operations (for benchmarks).
    /// </summary>
    public bool RowKernels { get; init; } = true;
}

/// <summary>A bias-free linear layer (Llama has no biases) with a hook for adapter deltas.</summary>
public sealed class LlamaLinear : nn.Module
{
#pragma warning disable IDE1006 // named as the checkpoint key
    private readonly Parameter weight; // [out, in]; a 0-element placeholder when quantized
#pragma warning restore IDE1006
    private readonly LinearOptions options;
    private readonly Device device;
    private QuantizedWeight? quantized;

    public LlamaLinear(LinearSite site, long inFeatures, long outFeatures, ScalarType dtype, Device device, LinearOptions? options = null)
        : base(LinearSite.ShortName(site.Kind))
    {
        Site = site;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        DType = dtype;
        this.device = device;
        this.options = options ?? LinearOptions.Default;
        var shape = IsQuantized ? new long[] { 0 } : [outFeatures, inFeatures];
        weight = new Parameter(empty(shape, dtype: dtype, device: device), requires_grad: false);
        RegisterComponents();
    }

    public LinearSite Site { get; }

    public long InFeatures { get; }

    public long OutFeatures { get; }

    /// <summary>The compute dtype (of the dense weight, or what a quantized one dequantizes to).</summary>
    public ScalarType DType { get; }

    public Device Device => device;

    public WeightQuantization Quantization => options.Quantization;

    public bool IsQuantized => options.Quantization != WeightQuantization.None;

    /// <summary>The weight itself (not a copy): merging adapters writes into it. A quantized module has none.</summary>
    public Tensor Weight => IsQuantized
        ? throw new InvalidOperationException($"{Site}: the weights are stored {Quantization.Name()} (Model:Quantization); there is no dense weight to read or merge into")
        : weight;

    /// <summary>The quantized storage, or null when the weight is dense.</summary>
    public QuantizedWeight? Quantized => quantized;

    /// <summary>Bytes the weight occupies: dense elements, or codes plus scales.</summary>
    public long ResidentBytes => quantized?.Bytes ?? (weight.NumberOfElements * weight.ElementSize);

    /// <summary>Fills a quantized module from a checkpoint tensor [out, in] of any floating dtype.</summary>
    public void LoadWeight(Tensor source)
    {
        if (!IsQuantized)
        {
            throw new InvalidOperationException($"{Site}: dense weights load by copy_ into Weight");
        }

        quantized?.Dispose();
        quantized = QuantizedWeight.Quantize(source, Quantization, device, options.GroupSize);
    }

    public Tensor Forward(Tensor x, ILinearDelta? delta)
    {
        var clock = ProductClock.Start();
        var y = Product(x); // [B, T, out]
        ProductClock.Stop(clock);
        return delta is null ? y : delta.Apply(Site, x, y);
    }

    /// <summary>
    /// The forwards of <paramref name="linears"/> (modules of one layer that read the same <paramref name="x"/>:
    /// q, k, v or gate, up), in order. When fusion is on and every product goes to the kernels, one pool hand-off
    /// computes them all, each from its module's own weight: no concatenated copy, so merged mode's writes into a
    /// module's weight are read as they are, and no extra memory. The outputs equal the unfused ones bit for bit
    /// (the same per-row arithmetic). Each module's delta is then added under its own site, as PEFT names it.
    /// </summary>
    public static Tensor[] Forward(IReadOnlyList<LlamaLinear> linears, Tensor x, ILinearDelta? delta)
    {
        if (linears.Count < 2 || linears.Count > KernelPool.MaxParts || !linears[0].options.FuseProjections
            || FusedJobs(linears, x) is not { } jobs)
        {
            return linears.Select(l => l.Forward(x, delta)).ToArray();
        }

        var clock = ProductClock.Start();
        var ys = DecodeProducts.Run(x, jobs, null); // [B, T, outᵢ] each
        ProductClock.Stop(clock);
        if (delta is not null)
        {
            for (var i = 0; i < ys.Length; i++)
            {
                ys[i] = delta.Apply(linears[i].Site, x, ys[i]);
            }
        }

        return ys;
    }

    /// <summary>Every module's kernel job for <paramref name="x"/>, or null when any of them goes to libtorch.</summary>
    private static ProductJob[]? FusedJobs(IReadOnlyList<LlamaLinear> linears, Tensor x)
    {
        var jobs = new ProductJob[linears.Count];
        for (var i = 0; i < jobs.Length; i++)
        {
            if (linears[i].KernelJob(x) is not { } job)
            {
                return null;
            }

            jobs[i] = job;
        }

        return jobs;
    }

    /// <summary>The kernels' job for the product of <paramref name="x"/> with this weight, or null when the product is libtorch's (<see cref="DecodeProducts.Applies"/>).</summary>
    private ProductJob? KernelJob(Tensor x)
    {
        if (quantized is null && IsQuantized)
        {
            throw new InvalidOperationException($"{Site}: quantized weights were never loaded");
        }

        if (!options.DecodeKernels)
        {
            return null;
        }

        if (quantized is { } q)
        {
            return DecodeProducts.Applies(x, InFeatures, q.KernelFormat) ? q.Job() : null;
        }

        // A trained weight (full fine-tuning, pre-training) needs libtorch's autograd even when x needs no gradient.
        return !weight.requires_grad && DecodeProducts.Applies(x, InFeatures, DecodeProducts.DenseFormat(weight.dtype))
            ? DecodeProducts.DenseJob(weight)
            : null;
    }

    private Tensor Product(Tensor x)
    {
        if (KernelJob(x) is { } job)
        {
            return DecodeProducts.Run(x, job, null);
        }

        if (quantized is { } q)
        {
            if (x.requires_grad)
            {
                // Training on the frozen quantized base (QLoRA): the gradient flows to x, the dequantized weight is never kept for the backward.
                return QuantizedLinearFunction.Apply(x, q);
            }

            // Prefill and large batches decode the weight, then libtorch.
            using var dense = DecodeProducts.Dense(q, x.dtype); // [out, in]
            return nn.functional.linear(x, dense);
        }

        return nn.functional.linear(x, weight);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            quantized?.Dispose();
            quantized = null;
        }

        base.Dispose(disposing);
    }
}
