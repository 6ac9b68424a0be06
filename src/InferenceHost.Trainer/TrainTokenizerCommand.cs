using System.Diagnostics;
using System.Text.Json;
using InferenceHost.CommandLine;
using InferenceHost.Model.Tokenization;
using InferenceHost.Trainer.Data;
using InferenceHost.Trainer.Output;
using InferenceHost.Trainer.Tokenization;

namespace InferenceHost.Trainer;

/// <summary>
/// <c>train-tokenizer</c>: learns a byte-level BPE on text documents (the same readers and splits as
/// <c>pretrain</c>) and writes <c>tokenizer.json</c> + <c>tokenizer_config.json</c> (+ <c>tokenizer_training.json</c>,
/// the counts and timing) into <c>--out</c>; <c>pretrain --tokenizer OUT/tokenizer.json</c> or <c>--tokenizer OUT</c> uses it.
/// </summary>
public static class TrainTokenizerCommand
{
    public static int Run(CliArgs args, TextWriter log)
    {
        var outDir = args.Require("out");
        var vocabSize = args.Int("vocab-size", 4096);
        var minFrequency = args.Int("min-frequency", 2);
        string bos = args.Get("bos") ?? "<s>", eos = args.Get("eos") ?? "</s>", pad = args.Get("pad") ?? "<pad>";
        var specials = new[] { bos, eos, pad }.Distinct(StringComparer.Ordinal).ToList();
        if (minFrequency < 1)
        {
            throw new CliException("--min-frequency must be at least 1");
        }

        if (vocabSize < 256 + specials.Count)
        {
            throw new CliException($"--vocab-size {vocabSize}: a byte-level vocabulary needs at least 256 byte ids + {specials.Count} special tokens");
        }

        if (specials.Any(string.IsNullOrWhiteSpace))
        {
            throw new CliException("--bos, --eos and --pad must not be empty");
        }

        var policy = args.Flag("skip-bad") ? BadRecordPolicy.Skip : BadRecordPolicy.Error;
        var skips = new SkipCounts();
        var field = args.Get("text-field") ?? "text";
        var files = args.GetAll("text");
        if (files.Count == 0)
        {
            throw new CliException("--text FILE is required");
        }

        var clock = Stopwatch.StartNew();
        var docs = files.SelectMany(p => TextCorpus.ReadDocuments(p, field, policy, skips)).ToList();
        // The same split as pretrain's --val-split/--split-seed, so held-out documents stay unseen by the tokenizer too.
        var (train, held, _) = Splits.Split(docs, args.Double("val-split", 0), 0, args.Int("split-seed", 42));
        if (train.Count == 0)
        {
            throw new CliException("--text names no documents");
        }

        var read = clock.Elapsed.TotalSeconds;
        var pieces = BpeTrainer.CountPieces(train.Select(d => d.Fields["text"]));
        var counted = clock.Elapsed.TotalSeconds;
        var model = BpeTrainer.Train(pieces, vocabSize, specials, minFrequency);
        var trained = clock.Elapsed.TotalSeconds;
        TokenizerJsonWriter.Write(outDir, model, bos, eos, pad);
        // Read back with the server's loader: what was written is what pretrain and the server will use.
        var tokenizer = TokenizerLoader.Load(outDir);
        var seconds = clock.Elapsed.TotalSeconds;
        var stats = new
        {
            documents = train.Count,
            held_out_documents = held.Count,
            pieces = model.Words,
            unique_pieces = model.UniqueWords,
            text_bytes = model.TextBytes,
            training_text_tokens = model.TrainingTokens,
            bytes_per_token = (double)model.TextBytes / Math.Max(1, model.TrainingTokens),
            vocab_size = tokenizer.VocabSize,
            requested_vocab_size = vocabSize,
            merges = model.Merges.Count,
            last_merge_count = model.Merges.Count > 0 ? model.Merges[^1].Count : 0,
            min_frequency = minFrequency,
            special_tokens = specials.ToDictionary(s => s, model.SpecialId),
            pre_tokenizer = BpeTrainer.Llama3Pattern,
            seconds_reading = read,
            seconds_counting = counted - read,
            seconds_merging = trained - counted,
            seconds_total = seconds,
            skipped = skips.ByReason,
        };
        File.WriteAllText(Path.Combine(outDir, "tokenizer_training.json"), JsonSerializer.Serialize(stats, Report.Json));
        log.WriteLine($"byte-level BPE: {model.Merges.Count:N0} merges, vocabulary {tokenizer.VocabSize:N0} ({string.Join(", ", specials.Select(s => $"{s}={model.SpecialId(s)}"))}) " +
            $"from {train.Count:N0} documents ({model.TextBytes:N0} bytes, {model.UniqueWords:N0} distinct pieces; {held.Count:N0} held out); " +
            $"the training text is {model.TrainingTokens:N0} tokens ({stats.bytes_per_token:F2} bytes/token); " +
            $"{seconds:F1}s (read {read:F1}s, count {counted - read:F1}s, merge {trained - counted:F1}s) -> {outDir}");
        if (model.VocabSize < vocabSize)
        {
            log.WriteLine($"note: no pair occurs {minFrequency} times any more; the vocabulary stopped at {model.VocabSize} of {vocabSize}");
        }

        return 0;
    }
}
