using InferenceHost.Model.Kernels;
using static TorchSharp.torch;

namespace InferenceHost.Adapters;

/// <summary>
/// PEFT's LoRA arithmetic, the one copy of it: unmerged y += scale · (x·Aᵀ)·Bᵀ, merged W += scale · B·A, and the
/// bound on |scale · B·A| that proves a merge (or a delta) stays finite. Serving (<see cref="LoraBatchDelta"/>),
/// merging (<see cref="WeightMerger"/>), the trainer's trainable LoRA and the evaluation all go through here.
/// </summary>
public static class LoraMath
{
    /// <summary>(x·Aᵀ)·Bᵀ without the scale: x [.., in], A [r, in], Bᵀ [r, out] → [.., out]. Autograd flows through it.</summary>
    public static Tensor Product(Tensor x, Tensor a, Tensor bt) => matmul(matmul(x, a.t()), bt);

    /// <summary>W [out, in] += scale · B [out, r] · A [r, in], in place and without materializing B·A.</summary>
    public static void MergeInto(Tensor w, Tensor a, Tensor b, double scale) => w.addmm_(b, a, beta: 1, alpha: (float)scale);

    /// <summary>
    /// W = P + Σ scale · B·A over <paramref name="terms"/> (A [r, in], B [out, r], any dtype and device), P the
    /// pristine copy of W. A dense float32/bfloat16 CPU weight is written in one pass by <see cref="MergeKernel"/>
    /// (the factors concatenated in float32, the scales folded into B); any other goes through libtorch, a copy of
    /// P followed by <see cref="MergeInto"/> per term.
    /// </summary>
    public static void MergeFrom(Tensor w, Tensor pristine, IReadOnlyList<(Tensor A, Tensor B, double Scale)> terms)
    {
        using var scope = NewDisposeScope();
        if (MergeKernel.Supports(w))
        {
            var a = cat(terms.Select(t => t.A.to(ScalarType.Float32, CPU)).ToList(), 0).contiguous();
            var b = cat(terms.Select(t => t.B.to(ScalarType.Float32, CPU) * t.Scale).ToList(), 1).contiguous();
            MergeKernel.Merge(w, pristine, a, b);
            return;
        }

        w.copy_(pristine);
        foreach (var (a, b, scale) in terms)
        {
            MergeInto(w, a.to(w.dtype, w.device), b.to(w.dtype, w.device), scale);
        }
    }

    /// <summary>A bound on every |scale · (B·A)ᵢⱼ|: |scale| · r · max|B| · max|A|.</summary>
    public static double DeltaBound(Tensor a, Tensor b, int rank, double scale) =>
        Math.Abs(scale) * rank * b.abs().max().item<float>() * a.abs().max().item<float>();
}
