using InferenceHost.CommandLine;
using InferenceHost.Model.Checkpoints;

namespace InferenceHost.Tools;

/// <summary>
/// <c>synth-checkpoint --shape tiny|tinyllama-1.1b|llama-2-7b|smollm-135m --out DIR --tokenizer PATH
/// [--seed N] [--dtype float32|bfloat16|float16] [--vocab-size N]</c>: a seeded random checkpoint in
/// Hugging Face layout, for benchmarks and tests.
/// </summary>
public static class SynthCheckpointCommand
{
    public static int Run(CliArgs args, TextWriter stdout)
    {
        var shape = args.Require("shape");
        var output = args.Require("out");
        var tokenizer = args.Require("tokenizer");
        var seed = (int)(args.Long("seed") ?? 0);
        var dtype = DTypes.Parse(args.Get("dtype") ?? "float32");
        var vocab = args.Long("vocab-size");
        if (!SyntheticCheckpoint.Shapes.ContainsKey(shape))
        {
            throw new CliException($"--shape: '{shape}' is not one of {string.Join(", ", SyntheticCheckpoint.Shapes.Keys)}");
        }

        SyntheticCheckpoint.Write(output, shape, seed, tokenizer, dtype, vocab is null ? null : (int)vocab);
        stdout.WriteLine($"wrote {shape} checkpoint (seed {seed}, {dtype}) to {output}");
        return 0;
    }
}
