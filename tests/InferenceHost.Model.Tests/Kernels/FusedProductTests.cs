using InferenceHost.Model.Kernels;
using static TorchSharp.torch;

namespace InferenceHost.Model.Tests.Kernels;

/// <summary>
/// Several products in one pool hand-off (a layer's q, k, v; its gate, up) give each product exactly what a
/// hand-off of its own gives: bit for bit, since a row's arithmetic does not depend on the chunk that holds it.
/// Every format and instruction set, in-features that fill no vector (37) or leave tails (200, 1000), part sizes
/// that split chunks mid-part and leave odd row counts (19, 7, 33), and m = 1..9 activation rows.
/// </summary>
public sealed class FusedProductTests
{
    [Theory]
    [MemberData(nameof(DecodeKernelTests.Formats), MemberType = typeof(DecodeKernelTests))]
    public void One_hand_off_equals_a_hand_off_per_product_bit_for_bit(string format)
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        foreach (var (inF, outs) in new[] { (37, new[] { 19, 7, 33 }), (200, new[] { 129, 64, 64 }), (1000, new[] { 300, 47 }) })
        {
            var stored = outs.Select(o => DecodeKernelTests.Store(format, randn(o, inF) * 0.05, out _)).ToArray();
            try
            {
                foreach (var isa in Enum.GetValues<KernelIsa>().Where(i => DecodeKernels.Supports(i, stored[0].Job.Format)))
                {
                    for (var m = 1; m <= 9; m++)
                    {
                        var x = randn(m, inF); // [m, in]
                        var fused = DecodeProducts.Run(x, stored.Select(s => s.Job).ToArray(), isa); // [m, outᵢ] each
                        Assert.Equal(outs.Length, fused.Length);
                        for (var i = 0; i < outs.Length; i++)
                        {
                            var alone = DecodeProducts.Run(x, stored[i].Job, isa);
                            Assert.Equal(new long[] { m, outs[i] }, fused[i].shape);
                            Assert.True(fused[i].equal(alone).all().item<bool>(), $"{format} {isa} m={m}: part {i} ({outs[i]}x{inF}) differs from its own product");
                        }
                    }
                }
            }
            finally
            {
                foreach (var s in stored)
                {
                    s.Dispose();
                }
            }
        }
    }

    [Fact]
    public void A_hand_off_refuses_parts_that_do_not_read_x()
    {
        using var scope = NewDisposeScope();
        var a = randn(8, 16);
        var b = randn(8, 15);
        var jobs = new[] { DecodeProducts.DenseJob(a), DecodeProducts.DenseJob(b) };
        var e = Assert.Throws<ArgumentException>(() => DecodeProducts.Run(randn(2, 16), jobs, null));
        Assert.Contains("15", e.Message);
        var four = new[] { jobs[0], jobs[0], jobs[0], jobs[0] };
        Assert.Throws<ArgumentException>(() => DecodeProducts.Run(randn(2, 16), four, null)); // more parts than one hand-off takes
    }
}
