using InferenceHost.CommandLine;
using System.Globalization;
using InferenceHost.Model;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using InferenceHost.Model.Quantization;
using InferenceHost.Model.Tokenization;
using InferenceHost.Trainer.Data;
using InferenceHost.Trainer.Output;
using InferenceHost.Trainer.Training;

namespace InferenceHost.Trainer;

/// <summary>A training data set named on the command line: <c>FILE[:WEIGHT[:TEMPLATE]]</c>.</summary>
public sealed record DataSpec(string Path, double Weight, string? Template)
{
    public static DataSpec Parse(string spec)
    {
        var parts = spec.Split(':', 3);
        var weight = 1.0;
        if (parts.Length > 1 && parts[1].Length > 0 && !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out weight))
        {
            throw new CliException($"--data {spec}: weight '{parts[1]}' is not a number (FILE[:WEIGHT[:TEMPLATE]])");
        }

        return new DataSpec(parts[0], weight, parts.Length > 2 ? parts[2] : null);
    }
}

/// <summary><c>train</c> and <c>pretrain</c>: parse options, load data and model, run, write outputs and report.</summary>
public static class TrainCommand
{

    public static int Run(CliArgs args, TextWriter log, bool pretrain, string commandLine)
    {
        var options = ParseOptions(args, pretrain);
        if (options.Threads <= 0)
        {
            return Run(args, options, log, pretrain, commandLine);
        }

        // --threads holds for this run only (the process-wide setting is restored for whoever runs next).
        var before = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(options.Threads);
        try
        {
            return Run(args, options, log, pretrain, commandLine);
        }
        finally
        {
            TorchSharp.torch.set_num_threads(before);
        }
    }

    private static int Run(CliArgs args, TrainOptions options, TextWriter log, bool pretrain, string commandLine)
    {
        var outDir = args.Require("out");
        var policy = args.Flag("skip-bad") ? BadRecordPolicy.Skip : BadRecordPolicy.Error;
        var reportDir = args.Get("report") ?? Path.Combine(outDir, "training");
        var resume = args.Get("resume");
        var data = new Dictionary<string, object>();
        var skips = new SkipCounts();

        string modelDir;
        if (pretrain)
        {
            modelDir = args.Get("init-from") ?? WriteRandomBase(args, outDir, log);
        }
        else
        {
            modelDir = args.Require("model");
        }

        var maxPositions = options.MaxLength + (options.Method == Method.PromptTuning ? options.VirtualTokens : 0) + options.EvalMaxNewTokens;
        // qlora: the linear weights quantized at load exactly as the server's Model:Quantization does, and frozen.
        using var model = ModelLoader.Load(modelDir, new ModelLoadOptions { MaxSequenceLength = maxPositions, Quantization = options.Quantization });
        log.WriteLine($"base weights resident: {model.Model.WeightBytes / 1048576.0:F2} MiB ({model.Model.WeightBytes:N0} bytes; linear weights {model.Model.Quantization.Name()}" +
            (options.Quantization == WeightQuantization.None ? ")" : ", dequantized per product in the forward and again in the backward, never kept dense)"));
        var eos = model.Tokenizer.EosId ?? model.EosIds.First();
        var builder = new ExampleBuilder(model.Tokenizer, model.EosIds, options.MaxLength, policy,
            args.Flag("truncate-prompt") ? LongExamplePolicy.TruncatePrompt : LongExamplePolicy.Reject);

        List<WeightedDataset> sets;
        List<TokenizedExample> validation;
        List<GenerationExample> rougeSamples = [];
        double valSplit = args.Double("val-split", 0), testSplit = args.Double("test-split", 0);
        var splitSeed = args.Int("split-seed", options.Seed);
        if (pretrain)
        {
            var field = args.Get("text-field") ?? "text";
            var docs = args.GetAll("text").SelectMany(p => TextCorpus.ReadDocuments(p, field, policy, skips)).ToList();
            if (docs.Count == 0)
            {
                throw new CliException("--text names no documents");
            }

            var (train, val, _) = Splits.Split(docs, valSplit, 0, splitSeed);
            if (args.Get("validation") is { } vf)
            {
                val = TextCorpus.ReadDocuments(vf, field, policy, skips);
            }

            sets = [new WeightedDataset("text", TextCorpus.Blocks(train, model.Tokenizer, eos, options.MaxLength), 1)];
            validation = TextCorpus.Blocks(val, model.Tokenizer, eos, options.MaxLength);
            data["documents"] = train.Count;
            data["validation_documents"] = val.Count;
            data["blocks"] = sets[0].Examples.Count;
        }
        else
        {
            var specs = args.GetAll("data").Select(DataSpec.Parse).ToList();
            if (specs.Count == 0)
            {
                throw new CliException("--data FILE[:WEIGHT[:TEMPLATE]] is required");
            }

            var defaultTemplate = args.Get("template");
            var completion = args.Get("completion");
            sets = [];
            var valRecords = new List<(Record R, TaskTemplate T)>();
            var testCount = 0;
            foreach (var spec in specs)
            {
                var template = TemplateLibrary.Resolve(spec.Template ?? defaultTemplate
                    ?? throw new CliException($"--data {spec.Path}: no template; give --template NAME or FILE:WEIGHT:TEMPLATE"), completion);
                var records = JsonlReader.Read(spec.Path, policy, skips);
                var (train, val, test) = Splits.Split(records, valSplit, testSplit, splitSeed);
                testCount += test.Count;
                valRecords.AddRange(val.Select(r => (r, template)));
                var examples = builder.Build(train, template, options.Seed, skips);
                sets.Add(new WeightedDataset(spec.Path, examples, spec.Weight));
                data[$"train:{spec.Path}"] = new { records = records.Count, examples = examples.Count, weight = spec.Weight, template = template.Name };
            }

            if (args.Get("validation") is { } vspec)
            {
                var v = DataSpec.Parse(vspec);
                var template = TemplateLibrary.Resolve(v.Template ?? specs[0].Template ?? defaultTemplate!, completion);
                valRecords.AddRange(JsonlReader.Read(v.Path, policy, skips).Select(r => (r, template)));
            }

            validation = [];
            foreach (var (r, t) in valRecords)
            {
                try
                {
                    // Validation uses each task's first phrasing, so scores are comparable across runs.
                    var (prompt, target) = t.Phrasings[0].Render(r);
                    var e = builder.Tokenize(prompt, target, r.File, r.Line);
                    validation.Add(e);
                    rougeSamples.Add(new GenerationExample(e.Ids[..e.PromptLength], target));
                }
                catch (DataException e)
                {
                    skips.Handle(policy, e, "bad validation records");
                }
            }

            data["validation_examples"] = validation.Count;
            data["test_records_held_out"] = testCount;
        }

        data["skipped"] = skips.ByReason;
        if (skips.Total > 0)
        {
            log.WriteLine($"skipped (--skip-bad): {skips}");
        }

        var (parameters, outsideEmbedding) = PretrainShapes.Parameters(model.Config);
        data["model"] = new { parameters, non_embedding_parameters = outsideEmbedding, non_embedding_share = (double)outsideEmbedding / parameters, vocab_size = model.Config.VocabSize };
        log.WriteLine($"{options.Method}: {sets.Sum(s => s.Examples.Count)} training examples in {sets.Count} data set(s), {validation.Count} validation; model {modelDir}");
        TorchSharp.torch.manual_seed(options.Seed);
        using var run = new TrainingRun(model, options);
        log.WriteLine($"trainable parameters: {run.TrainableParameters:N0} ({100.0 * run.TrainableParameters / (run.BaseParameters + (options.TrainsLora || options.Method == Method.PromptTuning ? run.TrainableParameters : 0)):F3}% of {run.BaseParameters:N0} base)");
        Directory.CreateDirectory(outDir);
        // The matmul peak MFU is measured against: once per run, with the run's threads, before training starts.
        var peak = MatmulPeak.Measure(model.Config, options.BatchSize * options.MaxLength);
        log.WriteLine($"matmul peak: {peak}; training FLOPs per token at length {options.MaxLength}: " +
            $"{Flops.PerToken(model.Config, options.Method, run.TrainedExtraMatmul, options.MaxLength) / 1e6:F2} M ({Flops.Formula})");
        var result = run.Run(sets, validation, rougeSamples, outDir, model.Name, resume, log, peak) with
        {
            PeakAtEnd = MatmulPeak.Measure(model.Config, options.BatchSize * options.MaxLength),
        };
        Report.Write(reportDir, commandLine, options, result, outDir, data, log);
        return 0;
    }

    private static TrainOptions ParseOptions(CliArgs a, bool pretrain)
    {
        var methodName = a.Get("method") ?? "lora";
        var method = pretrain ? Method.Pretrain : methodName switch
        {
            "lora" => Method.Lora,
            "qlora" => Method.QLora,
            "prompt-tuning" => Method.PromptTuning,
            "full" => Method.Full,
            var m => throw new CliException($"--method {m}: expected lora, qlora, prompt-tuning or full"),
        };
        var full = method is Method.Full or Method.Pretrain;
        var o = new TrainOptions
        {
            Method = method,
            Quantization = ParseQuantization(a.Get("quantization"), method, methodName),
            Lora = new LoraSettings
            {
                Rank = a.Int("rank", 8),
                Alpha = a.Double("alpha", 16),
                Dropout = a.Double("dropout", 0),
                UseRsLora = a.Flag("rslora"),
                Targets = a.List("targets", "q_proj,v_proj").Select(t => LinearSite.ParseShortName(t)
                    ?? throw new CliException($"--targets: '{t}' is not a module (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)")).Distinct().ToArray(),
                Layers = a.Get("layers") is { } l ? l.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() : null,
            },
            VirtualTokens = a.Int("virtual-tokens", 20),
            PromptInit = (a.Get("prompt-init") ?? "random") switch
            {
                "random" => PromptInit.Random,
                "text" => PromptInit.Text,
                "vocab" or "sampled-vocab" => PromptInit.SampledVocab,
                var p => throw new CliException($"--prompt-init {p}: expected random, text or vocab"),
            },
            PromptInitText = a.Get("prompt-init-text"),
            LearningRate = a.Double("lr", method switch { Method.PromptTuning => 3e-2, Method.Lora or Method.QLora => 2e-4, Method.Full => 5e-5, _ => 1e-3 }),
            MinLearningRateRatio = a.Double("min-lr-ratio", 0),
            WeightDecay = a.Double("weight-decay", full ? 0.01 : 0),
            Beta1 = a.Double("beta1", 0.9),
            Beta2 = a.Double("beta2", 0.999),
            WarmupSteps = a.Int("warmup", 0),
            Schedule = (a.Get("schedule") ?? "cosine") switch
            {
                "cosine" => Schedule.Cosine,
                "linear" => Schedule.Linear,
                "constant" => Schedule.Constant,
                var s => throw new CliException($"--schedule {s}: expected cosine, linear or constant"),
            },
            MaxGradNorm = a.Double("max-grad-norm", 1.0),
            BatchSize = a.Int("batch-size", 8),
            GradientAccumulation = a.Int("grad-accum", 1),
            Epochs = a.Int("epochs", 1),
            MaxSteps = a.Get("max-steps") is { } ms ? int.Parse(ms, CultureInfo.InvariantCulture) : null,
            MaxLength = a.Int("max-length", pretrain ? 256 : 512),
            Packing = pretrain || a.Flag("packing"),
            GroupByLength = a.Flag("group-by-length"),
            Seed = a.Int("seed", 42),
            EvalEvery = a.Int("eval-every", 0),
            EvalLossSamples = a.Int("eval-loss-samples", 200),
            EvalRougeSamples = pretrain ? 0 : a.Int("eval-rouge-samples", 16),
            EvalMaxNewTokens = a.Int("max-new-tokens", 48),
            EarlyStoppingPatience = a.Int("patience", 0),
            KeepBest = !a.Flag("no-keep-best"),
            SaveEvery = a.Int("save-every", 0),
            SaveEveryMinutes = a.Double("save-every-minutes", 0),
            MaxMinutes = a.Double("max-minutes", 0),
            Threads = a.Int("threads", 0),
        };
        if (o.BatchSize < 1 || o.GradientAccumulation < 1 || o.MaxLength < 8 || o.Lora.Rank < 1 || o.VirtualTokens < 1 || o.Epochs < 1 || o.MaxSteps is < 1)
        {
            throw new CliException("--batch-size, --grad-accum, --rank, --virtual-tokens, --epochs and --max-steps must be positive, --max-length at least 8");
        }

        if (o.Threads < 0 || o.SaveEveryMinutes < 0 || o.MaxMinutes < 0)
        {
            throw new CliException("--threads, --save-every-minutes and --max-minutes must not be negative");
        }

        return o;
    }

    /// <summary>
    /// <c>--quantization</c>: the frozen base's storage for qlora (int8, or nf4 by default, QLoRA's format), parsed by the
    /// server's <see cref="WeightQuantizationNames"/>; every other method trains on or beside the dense base and refuses it.
    /// </summary>
    private static WeightQuantization ParseQuantization(string? text, Method method, string methodName)
    {
        if (method != Method.QLora)
        {
            return text is null ? WeightQuantization.None
                : throw new CliException($"--quantization {text}: only --method qlora trains on a quantized base (--method {methodName} keeps the base dense)");
        }

        var q = DTypes.ParseQuantization(text ?? "nf4");
        return q != WeightQuantization.None ? q
            : throw new CliException("--quantization none: --method qlora trains on a quantized base (int8 or nf4); for LoRA on the dense base use --method lora");
    }

    /// <summary>
    /// pretrain without --init-from: a random Llama of a named shape (or sized by --hidden/--layers/...)
    /// with the given tokenizer, written into the output directory and trained in place.
    /// </summary>
    private static string WriteRandomBase(CliArgs a, string outDir, TextWriter log)
    {
        var tokenizer = a.Require("tokenizer");
        if (Directory.Exists(tokenizer))
        {
            // A directory written by train-tokenizer (or any model directory): its tokenizer file.
            tokenizer = TokenizerLoader.TokenizerFile(tokenizer);
        }

        var shape = a.Get("shape") ?? "tiny";
        if (!PretrainShapes.All.TryGetValue(shape, out var config))
        {
            throw new CliException($"--shape {shape}: known shapes are {string.Join(", ", PretrainShapes.All.Keys)}");
        }

        var cl100k = tokenizer == "cl100k";
        config = config with
        {
            HiddenSize = a.Int("hidden", config.HiddenSize),
            NumHiddenLayers = a.Int("num-layers", config.NumHiddenLayers),
            NumAttentionHeads = a.Int("heads", config.NumAttentionHeads),
            NumKeyValueHeads = a.Int("kv-heads", config.NumKeyValueHeads),
            IntermediateSize = a.Int("intermediate", config.IntermediateSize),
            MaxPositionEmbeddings = a.Int("max-positions", config.MaxPositionEmbeddings),
            VocabSize = cl100k ? EmbeddedTokenizer.Cl100kEmbeddingRows : config.VocabSize,
            EosTokenIds = cl100k ? [EmbeddedTokenizer.Cl100kEndOfText] : config.EosTokenIds,
            BosTokenId = cl100k ? null : config.BosTokenId,
        };
        var seed = a.Int("init-seed", a.Int("seed", 42));
        Directory.CreateDirectory(outDir);
        if (cl100k)
        {
            var temp = Directory.CreateTempSubdirectory("cl100k-").FullName;
            EmbeddedTokenizer.WriteCl100kBase(temp);
            SyntheticCheckpoint.Write(outDir, config, seed, Path.Combine(temp, TokenizerLoader.ModelFile), TorchSharp.torch.ScalarType.Float32);
            File.Copy(Path.Combine(temp, TokenizerConfig.FileName), Path.Combine(outDir, TokenizerConfig.FileName), overwrite: true);
            Directory.Delete(temp, recursive: true);
        }
        else
        {
            // The embedding has one row per id of the tokenizer (a learned 4 k vocabulary gives a 4 k table).
            SyntheticCheckpoint.Write(outDir, config, seed, tokenizer, TorchSharp.torch.ScalarType.Float32, vocabFromTokenizer: true);
            config = config with { VocabSize = TokenizerLoader.Load(outDir).VocabSize };
        }

        var (total, nonEmbedding) = PretrainShapes.Parameters(config);
        log.WriteLine($"random base ({shape}): hidden {config.HiddenSize}, {config.NumHiddenLayers} layers, {config.NumAttentionHeads}/{config.NumKeyValueHeads} heads, " +
            $"intermediate {config.IntermediateSize}, vocab {config.VocabSize}: {total:N0} parameters, {nonEmbedding:N0} ({100.0 * nonEmbedding / total:F1}%) outside the embedding (init seed {seed}) in {outDir}");
        return outDir;
    }
}
