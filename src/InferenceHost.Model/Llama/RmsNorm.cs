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

    public Tensor Forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        // float32: the mean of squares overflows / loses precision in half types.
        var xf = x.to_type(ScalarType.Float32);
        var normed = xf * rsqrt(xf.pow(2).mean([-1], keepdim: true) + eps);
        return (weight * normed.to_type(x.dtype)).MoveToOuterDisposeScope();
    }
}
