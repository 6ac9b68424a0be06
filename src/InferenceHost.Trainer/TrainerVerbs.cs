using InferenceHost.Adapters;
using InferenceHost.CommandLine;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Trainer.Data;
using static InferenceHost.CommandLine.CliOption;

namespace InferenceHost.Trainer;

/// <summary>
/// The trainer's verbs with their options, declared once (System.CommandLine parses them and generates
/// <c>VERB --help</c>); README.md says what each option does at length.
/// </summary>
public static class TrainerVerbs
{
    private static readonly CliOption[] Data =
    [
        Many("data", "Training data, FILE or FILE:WEIGHT:TEMPLATE (repeatable: multi-task mixing)."),
        Value("template", "Prompt template: a built-in task (dialogue-summary, dialogue-topic, ...; NAME#K = phrasing K) or \"prompt|||completion\"."),
        Value("completion", "The completion template when --template gives the prompt only."),
        Value("validation", "Validation data, FILE[::TEMPLATE]."), Value("val-split", "Share of each data file held out for validation."),
        Value("test-split", "Share held out and counted only."), Value("split-seed", "Seed of the splits."),
        Flag("skip-bad", "Skip bad records (counted by reason) instead of stopping."),
        Flag("truncate-prompt", "Shorten over-long prompts in the middle instead of rejecting them."),
    ];

    private static readonly CliOption[] Optimization =
    [
        Value("lr", "AdamW peak learning rate."), Value("weight-decay", "AdamW weight decay."), Value("beta1", "AdamW beta1."), Value("beta2", "AdamW beta2."),
        Value("warmup", "Linear warm-up steps."), Value("schedule", "cosine (default), linear or constant."), Value("min-lr-ratio", "Final learning rate as a share of --lr."),
        Value("max-grad-norm", "Gradient clipping (0 = off)."), Value("batch-size", "Micro-batch rows."), Value("grad-accum", "Micro-batches per optimizer step."),
        Value("epochs", "Passes over the data."), Value("max-steps", "Optimizer steps (overrides --epochs)."), Value("max-length", "Tokens per example or block."),
        Flag("packing", "Lay whole examples end to end in rows of --max-length."),
        Flag("group-by-length", "Batch examples of similar length (windows of 50 batches sorted longest first, as Hugging Face's group_by_length): less padding."), Value("seed", "Seed of init, data order, phrasing and dropout."),
        Value("eval-every", "Evaluate every N steps."), Value("eval-loss-samples", "Validation examples for the loss."),
        Value("eval-rouge-samples", "Validation examples generated for ROUGE."), Value("max-new-tokens", "Tokens generated per ROUGE example."),
        Value("patience", "Early stopping after N evaluations without improvement (0 = off)."),
        Flag("no-keep-best", "Write the last step's weights instead of the best evaluation's."),
        Value("save-every", "Write a resumable checkpoint every N steps."), Value("save-every-minutes", "Also write one every M minutes."),
        Value("max-minutes", "Stop after M minutes with a checkpoint to --resume from."), Value("resume", "Resume from this checkpoint directory."),
        Value("threads", "libtorch threads (default: one per core)."),
        Value("report", "Where the report goes (default OUT/training)."), Required("out", "Output directory."),
    ];

    private static readonly CliOption[] Methods =
    [
        Required("model", "The base model directory."), Value("method", "lora (default), qlora (LoRA on the frozen quantized base), prompt-tuning or full."),
        Value("quantization", "qlora: the base's storage, int8 or nf4 (default nf4), quantized at load as the server's Model:Quantization."),
        Value("rank", "LoRA rank."), Value("alpha", "lora_alpha."), Value("dropout", "lora_dropout."), Value("targets", "LoRA target modules, comma-separated."),
        Value("layers", "layers_to_transform, comma-separated."), Flag("rslora", "rsLoRA scaling (alpha/√r)."),
        Value("virtual-tokens", "Prompt tuning: virtual tokens."), Value("prompt-init", "Prompt tuning init: random, text or vocab."),
        Value("prompt-init-text", "Prompt tuning: the init text."),
    ];

    private static readonly CliOption[] Pretraining =
    [
        Required("tokenizer", "tokenizer.json (byte-level BPE, e.g. from train-tokenizer), tokenizer.model (SentencePiece or tiktoken), a directory holding one, or cl100k."),
        Value("shape", "The shape to start from (dialogsum-6m, tiny, tinyllama-1.1b, llama-2-7b, smollm-135m); the vocabulary is the tokenizer's."),
        Value("hidden", "Hidden size."), Value("num-layers", "Layers."), Value("heads", "Attention heads."), Value("kv-heads", "Key/value heads."),
        Value("intermediate", "MLP width."), Value("max-positions", "Longest sequence."), Value("init-seed", "Weight init seed."),
        Value("init-from", "Continue training an existing model instead of a random one."),
        Many("text", "Pre-training text: .jsonl or plain text (repeatable)."), Value("text-field", "The .jsonl field with the text (default text)."),
    ];

    public static IReadOnlyList<CliVerb> All(string commandLine) =>
    [
        new("train", "Fine-tune a base: LoRA, QLoRA, prompt tuning or full fine-tuning, on JSONL data with prompt templates.",
            [.. Methods, .. Data, .. Optimization], (a, log) => TrainCommand.Run(a, Console.Error, pretrain: false, commandLine)),
        new("pretrain", "Pre-train a model (random, or --init-from) on text, causal-LM loss on every token.",
            [.. Pretraining, .. Data.Where(d => d.Name is "validation" or "val-split" or "test-split" or "split-seed" or "skip-bad"), .. Optimization],
            (a, log) => TrainCommand.Run(a, Console.Error, pretrain: true, commandLine)),
        new("eval", "Compare the base, adapters and full fine-tunes: ROUGE/BLEU of greedy generations, held-out perplexity.",
        [
            Many("model", "The base DIR, and full fine-tunes as NAME=DIR (repeatable)."), Many("adapter", "An adapter as NAME=DIR (repeatable)."),
            Value("base-name", "The base's name in the tables (default base)."),
            Value("quantization", "Store the base's (and full fine-tunes') linear weights as the server's Model:Quantization: none (default), int8 or nf4."), Many("data", "Task data, FILE[::TEMPLATE] (repeatable)."),
            Value("template", "Default template of the tasks."), Value("completion", "Completion template."), Required("out", "Output directory."),
            Value("limit", "Examples per task (default 50)."), Value("max-length", "Longest prompt."), Value("max-new-tokens", "Tokens to generate."),
            Value("batch-size", "Generation batch."), Value("ppl-text", "Held-out text for perplexity."), Value("ppl-field", "Its .jsonl field."),
            Value("ppl-limit", "Documents of it."), Value("ppl-block", "Tokens per perplexity block."), Value("show", "Example generations shown."),
            Flag("skip-bad", "Skip bad records."), Flag("truncate-prompt", "Shorten over-long prompts."),
            Value("card-metric", "The metric of the evaluation cards (eval_results.json) written beside each adapter and full fine-tune for the first task: rouge1, rouge2, rougeL (default), rougeLsum, bleu or exact_match."),
            Flag("no-cards", "Write no evaluation cards."),
        ], (a, log) => EvalCommand.Run(a, Console.Error, commandLine)),
        new("train-tokenizer", "Learn a byte-level BPE (GPT-2 bytes, Llama 3 pre-tokenizer) on text; writes tokenizer.json + tokenizer_config.json.",
        [
            Many("text", "Training text: .jsonl or plain text (repeatable)."), Value("text-field", "The .jsonl field with the text (default text)."),
            Value("vocab-size", "Ids in all: 256 bytes + merges + special tokens (default 4096)."),
            Value("min-frequency", "Stop merging when no pair occurs this often (default 2)."),
            Value("bos", "BOS token (default <s>)."), Value("eos", "EOS token (default </s>)."), Value("pad", "Padding token (default <pad>)."),
            Value("val-split", "Hold out this share of the documents, as pretrain --val-split does."), Value("split-seed", "Seed of that split (default 42)."),
            Flag("skip-bad", "Skip bad records."), Required("out", "Output directory."),
        ], (a, log) => TrainTokenizerCommand.Run(a, Console.Error)),
        new("convert", "Write a checkpoint with every weight in another dtype (e.g. a float32-trained model as bfloat16).",
            [Required("model", "The checkpoint directory."), Value("dtype", "bfloat16 (default), float16 or float32."), Required("out", "Output directory.")],
            (a, log) => ConvertCommand.Run(a, Console.Error)),
    ];

    public static bool IsUserError(Exception e) => e is DataException or CheckpointException or AdapterException or IOException or InvalidOperationException or ArgumentException;

    /// <summary>One verb's arguments, parsed as the command line would parse them (tests).</summary>
    public static CliArgs Parse(string verb, IEnumerable<string> args) => All("test").Single(v => v.Name == verb).Parse(args);
}
