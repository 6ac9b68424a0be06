using InferenceHost.Adapters;
using InferenceHost.CommandLine;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Tools.Bench;
using InferenceHost.Tools.Checks;
using static InferenceHost.CommandLine.CliOption;

namespace InferenceHost.Tools;

/// <summary>
/// The server's tool verbs (<c>dotnet InferenceHost.dll VERB ...</c>), each with its options declared once here;
/// System.CommandLine parses them and generates <c>VERB --help</c>. The names and meanings are the README's.
/// </summary>
public static class ToolVerbs
{
    private static readonly CliOption Device = Value("device", "cpu (default) or cuda.");
    private static readonly CliOption Tokenizer = Value("tokenizer", "Tokenizer of the synthetic checkpoint (default: the fixtures' Llama 2 tokenizer.model).");
    private static readonly CliOption Work = Value("work", "Where synthetic checkpoints are cached (default .models/bench).");
    private static readonly CliOption Shape = Value("shape", "Synthetic shape: tiny, tinyllama-1.1b (default), llama-2-7b, smollm-135m.");

    public static IReadOnlyList<CliVerb> All { get; } =
    [
        new("generate", "One generation; --json prints {\"prompt_token_ids\", \"token_ids\", \"text\"} (generated part only).",
        [
            Required("model", "Model directory (Hugging Face layout)."), Required("prompt", "The prompt text."),
            Value("max-tokens", "Tokens to generate (default 16)."), Value("temperature", "0 = greedy."), Value("top-p", "Nucleus sampling."),
            Value("top-k", "Top-k sampling (0 = off)."), Value("seed", "Sampling seed."), Many("stop", "A stop string (repeatable)."),
            Many("adapter", "PEFT adapter directory, DIR or DIR:WEIGHT (repeatable; at most one soft prompt)."),
            Value("lora-mode", "unmerged (default) or merged."), Value("dtype", "float32 (default), bfloat16 or float16."), Device,
            Flag("json", "Print JSON instead of streaming the text."),
        ], (a, o) => GenerateCommand.RunAsync(a, o).GetAwaiter().GetResult()),
        new("synth-checkpoint", "A seeded random checkpoint in Hugging Face layout, for benchmarks and tests.",
        [
            Required("shape", "tiny, tinyllama-1.1b, llama-2-7b or smollm-135m."), Required("out", "Output directory."),
            Required("tokenizer", "tokenizer.json (byte-level BPE) or tokenizer.model; its vocabulary and BOS/EOS size the model."),
            Value("seed", "Weight seed (default 0)."), Value("dtype", "float32 (default), bfloat16 or float16."),
            Value("vocab-size", "Vocabulary size instead of the tokenizer's."),
        ], SynthCheckpointCommand.Run),
        new("synth-adapters", "Seeded random PEFT adapters for a base checkpoint (LoRAs {prefix}0..N-1, soft prompts soft-0..K-1).",
        [
            Required("model", "The base checkpoint."), Required("out", "Output directory."), Value("count", "LoRAs to write."),
            Value("rank", "LoRA rank."), Value("alpha", "lora_alpha."), Value("targets", "Comma-separated modules, or all-linear."),
            Value("soft-prompts", "Soft prompts to write."), Value("virtual-tokens", "Virtual tokens per soft prompt."),
            Value("seed", "Seed."), Value("prefix", "LoRA name prefix (default adapter-)."),
        ], SynthAdaptersCommand.Run),
        new("bench", "Per dtype x quantization x kernels x fusion, alternated over rounds: load, resident weights, prefill and decode tokens/s (batch 1, 8 and 32), roofline, each decode step inside and outside the matrix products (docs/benchmarks.md).",
        [
            Shape, Value("dtype", "Comma-separated compute dtypes (default float32,bfloat16)."),
            Value("quantization", "Comma-separated: none, int8, nf4 (default none)."),
            Value("kernels", "Comma-separated: on, off (the C# decode kernels or libtorch for every product; default on; quantized runs always on)."),
            Value("fuse", "Comma-separated: on, off (with the kernels, q/k/v and gate/up as one pool hand-off each, or one per module; default on)."),
            Value("row-kernels", "Comma-separated: on, off (with the kernels, the residual add + RMSNorm and RoPE as one pass each, or libtorch's operations; default on)."),
            Value("model", "Benchmark this checkpoint directory instead of a synthetic --shape."),
            Value("batches", "Comma-separated decode batch sizes, 1 among them (default 1,8,32)."),
            Value("rounds", "Rounds over all configurations, A B A B (default 1)."), Value("prompt-tokens", "Prefill prompt length (default 512)."),
            Value("decode-steps", "Timed decode steps (default 16)."), Value("checkpoint-dtype", "dtype of the synthetic checkpoint every configuration loads (default bfloat16)."),
            Tokenizer, Work, Device,
        ], BenchCommand.Run),
        new("bench-kernels", "One decode-shaped product through the C# kernels and through libtorch, per format and row count, alternated (docs/benchmarks.md).",
        [
            Value("rows", "Comma-separated row counts m (default 1,2,4,8,12,16)."), Value("formats", "Comma-separated: float32, bfloat16, int8, nf4 (default all)."),
            Value("in", "In-features (default 2048)."), Value("out", "Out-features (default 5632)."), Value("rounds", "Alternated rounds (default 3)."),
        ], KernelBenchCommand.Run),
        new("bench-lora", "Decode with the base, unmerged (one adapter, one per row) and merged; the merged switch; cold loads; slot memory.",
        [
            Shape, Value("model", "Benchmark this checkpoint directory instead of a synthetic --shape."), Value("dtype", "float32 (default) or bfloat16."),
            Value("quantization", "none (default), int8 or nf4: the base's weights quantized at load (unmerged columns only)."), Value("ranks", "Comma-separated ranks (default 8,16,64)."),
            Value("targets", "Comma-separated target sets: qkvo, all-linear."), Value("batches", "Comma-separated batch sizes (default 1,8,32)."),
            Value("steps", "Timed decode steps."), Tokenizer, Work, Device,
            Flag("switches-only", "Only the merged switch, cold load and slot memory (no decode table)."),
            Value("merge-paths", "Merge paths timed in turn: kernel (the one-pass merge, default), libtorch (copy + addmm_), or both comma-separated."),
            Value("rounds", "Rounds of the merge paths, alternated (default 1)."),
        ], LoraBenchCommand.Run),
        new("conformance", "Every case of goldens.json through the engine (or a server with --url), alone and batched, in each LoRA mode.",
        [
            Required("fixtures", "The fixtures directory (with goldens.json)."), Value("fixture", "Only this fixture (needed with --url)."),
            Device, Value("dtype", "float32 (default)."), Value("modes", "Comma-separated LoRA modes (default unmerged,merged,auto)."),
            Value("tolerance", "Largest top-5 logit error accepted (default 1e-3)."), Value("url", "A running server to check instead."),
            Flag("report-only", "Exit 0 even when a case fails (for dtypes the goldens do not bound)."), Value("out", "Also write the JSON report here."),
        ], ConformanceCommand.Run),
        new("dtype-compare", "The logits of every golden case (or of held-out documents) in --dtype against float32: error, KL, top-1 agreement.",
        [
            Value("fixtures", "The fixtures directory (its golden cases)."), Value("model", "Or a model directory, compared on --text."),
            Value("text", "Held-out documents (.jsonl or lines) for --model."), Value("text-field", "Their .jsonl field (default dialogue)."),
            Value("limit", "Documents compared (default 50)."), Value("max-tokens", "Tokens per document (default 256)."),
            Device, Value("dtype", "bfloat16 (default), float16 or float32."),
            Value("quantization", "none (default), int8 or nf4: the compared model's weights quantized at load."),
            Value("lora-mode", "unmerged (default) or merged."), Value("out", "Also write the JSON report here."),
        ], DTypeCompareCommand.Run),
        new("logits", "The logits at every prompt position, as safetensors, with LoRAs (merged or not) and soft prompts.",
        [
            Required("model", "Model directory."), Value("prompt", "Prompt text."), Value("prompt-ids", "Prompt token ids, comma-separated."),
            Many("adapter", "Adapter directory, DIR or DIR:WEIGHT (repeatable)."), Value("lora-mode", "unmerged (default) or merged."),
            Value("dtype", "float32 (default)."), Device, Required("out", "Output .safetensors file."),
        ], LogitsCommand.Run),
        new("device-probe", "Does TorchSharp work against the libtorch it found, on that device? Products against the CPU, copy bandwidth.",
        [
            Value("device", "cuda (default) or cpu."), Value("out", "Also write the JSON report here."),
        ], DeviceProbeCommand.Run),
    ];

    /// <summary>Errors that are the user's input (a missing file, a bad checkpoint), not bugs: exit code 1 with the message.</summary>
    public static bool IsUserError(Exception e) => e is CheckpointException or AdapterException or ArgumentException or IOException
        or InvalidDataException or UnauthorizedAccessException or Engine.UnknownAdapterException or Engine.InvalidRequestException;
}
