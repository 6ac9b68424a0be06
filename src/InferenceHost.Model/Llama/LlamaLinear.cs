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
        var y = Product(x); // [B, T, out]
        return delta is null ? y : delta.Apply(Site, x, y);
    }

    private Tensor Product(Tensor x)
    {
        if (quantized is { } q)
        {
            if (x.requires_grad)
            {
                // Training on the frozen quantized base (QLoRA): the gradient flows to x, the dequantized weight is never kept for the backward.
                return QuantizedLinearFunction.Apply(x, q);
            }

            if (options.DecodeKernels && DecodeProducts.Applies(x, InFeatures, q.KernelFormat))
            {
                return DecodeProducts.Linear(x, q);
            }

            // Prefill and large batches decode the weight, then libtorch.
            using var dense = DecodeProducts.Dense(q, x.dtype); // [out, in]
            return nn.functional.linear(x, dense);
        }

        if (quantized is null && IsQuantized)
        {
            throw new InvalidOperationException($"{Site}: quantized weights were never loaded");
        }

        // A trained weight (full fine-tuning, pre-training) needs libtorch's autograd even when x needs no gradient.
        return options.DecodeKernels && !weight.requires_grad && DecodeProducts.Applies(x, InFeatures, DecodeProducts.DenseFormat(weight.dtype))
            ? DecodeProducts.Linear(x, weight)
            : nn.functional.linear(x, weight);
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
