using InferenceHost.Model.Kernels;
using TorchSharp.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>RMSNorm as in Hugging Face's LlamaRMSNorm: normalize in float32, then scale in the input dtype.</summary>
public sealed class RmsNorm : nn.Module
{
#pragma warning disable IDE1006
    private readonly Parameter weight; // [hidden]
#pragma warning restore IDE1006
    private readonly double eps;

    public RmsNorm(string name, long hidden, double eps, ScalarType dtype, Device device) : base(name)
    {
        this.eps = eps;
        weight = new Parameter(ones(hidden, dtype: dtype, device: device), requires_grad: false);
        RegisterComponents();
    }

    /// <summary>
    /// The residual add and the norm after it: <c>h = x + delta</c> (no add when <paramref name="delta"/> is null),
    /// then <c>Forward(h)</c>; returns both. With <paramref name="kernels"/> a decode-sized step runs as one pass
    /// (<see cref="RowKernels.AddRmsNorm"/>); training and prefill run libtorch's operations.
    /// </summary>
    public (Tensor Sum, Tensor Normed) AddForward(Tensor x, Tensor? delta, bool kernels)
    {
        if (kernels && RowKernels.Applies(x, delta, weight))
        {
            return RowKernels.AddRmsNorm(x, delta, weight, eps);
        }

        var h = delta is null ? x : x + delta;
        return (h, Forward(h));
    }

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // float32: the mean of squares overflows / loses precision in half types.
        var xf = x.to_type(ScalarType.Float32);
        var normed = xf * rsqrt(xf.pow(2).mean([-1], keepdim: true) + eps);
        return (weight * normed.to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}
