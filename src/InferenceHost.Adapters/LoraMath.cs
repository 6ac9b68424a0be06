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

    /// <summary>A bound on every |scale · (B·A)ᵢⱼ|: |scale| · r · max|B| · max|A|.</summary>
    public static double DeltaBound(Tensor a, Tensor b, int rank, double scale) =>
        Math.Abs(scale) * rank * b.abs().max().item<float>() * a.abs().max().item<float>();
}
