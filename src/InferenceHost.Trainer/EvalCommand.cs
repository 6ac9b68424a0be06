using InferenceHost.Adapters;
using InferenceHost.Adapters.Peft;
using InferenceHost.CommandLine;
using InferenceHost.Model;
using InferenceHost.Model.Quantization;
using InferenceHost.Trainer.Data;
using InferenceHost.Trainer.Evaluation;
using InferenceHost.Trainer.Output;
using InferenceHost.Trainer.Training;

namespace InferenceHost.Trainer;

/// <summary>
/// <c>eval --model BASE_DIR [--model NAME=FULL_DIR]... [--adapter NAME=DIR]... --data FILE --template T --out DIR</c>:
/// the comparison table (Markdown + JSON) and side-by-side generations; see README.md.
/// </summary>
public static class EvalCommand
{

    public static int Run(CliArgs args, TextWriter log, string commandLine)
    {
        var models = args.GetAll("model");
        var baseDirs = models.Where(m => !m.Contains('=')).ToList();
        if (baseDirs.Count != 1)
        {
            throw new CliException("give exactly one --model DIR (the base); full fine-tunes as --model NAME=DIR");
        }

        var systems = new List<SystemSpec> { new(args.Get("base-name") ?? "base", SystemKind.Base, baseDirs[0]) };
        foreach (var m in models.Where(m => m.Contains('=')))
        {
            var (name, dir) = Named(m, "--model");
            systems.Add(new SystemSpec(name, SystemKind.Full, dir));
        }

        foreach (var a in args.GetAll("adapter"))
        {
            var (name, dir) = Named(a, "--adapter");
            systems.Add(new SystemSpec(name, PeftNames.ReadKind(name, dir) == AdapterKind.SoftPrompt ? SystemKind.PromptTuning : SystemKind.Lora, dir));
        }

        // Table order: base, prompt tuning, LoRA, full (cheapest to costliest).
        systems = [.. systems.OrderBy(s => s.Kind switch { SystemKind.Base => 0, SystemKind.PromptTuning => 1, SystemKind.Lora => 2, _ => 3 })];
        var outDir = args.Require("out");
        var limit = args.Int("limit", 50);
        var maxLength = args.Int("max-length", 512);
        var maxNew = args.Int("max-new-tokens", 64);
        var batchSize = args.Int("batch-size", 8);
        var policy = args.Flag("skip-bad") ? BadRecordPolicy.Skip : BadRecordPolicy.Error;
        var longPolicy = args.Flag("truncate-prompt") ? LongExamplePolicy.TruncatePrompt : LongExamplePolicy.Reject;
        var taskSpecs = args.GetAll("data").Select(d => DataSpec.Parse(d)).ToList();
        var defaultTemplate = args.Get("template");
        var completion = args.Get("completion");
        var pplText = args.Get("ppl-text");
        var pplField = args.Get("ppl-field") ?? "text";
        var pplLimit = args.Int("ppl-limit", 100);
        var pplBlock = args.Int("ppl-block", 256);
        var show = args.Int("show", 5);
        var cardMetric = CardWriter.CheckMetric(args.Get("card-metric") ?? "rougeL");
        var writeCards = !args.Flag("no-cards");
        if (taskSpecs.Count == 0 && pplText is null)
        {
            throw new CliException("give --data FILE[::TEMPLATE] (one or more tasks) and/or --ppl-text FILE");
        }

        // A quantized base (Model:Quantization) as the server would serve QLoRA adapters on it; full fine-tunes are loaded the same way.
        var quantization = args.Get("quantization") is { } qt ? DTypes.ParseQuantization(qt) : WeightQuantization.None;
        var skips = new SkipCounts();
        using var baseModel = ModelLoader.Load(baseDirs[0], new ModelLoadOptions { MaxSequenceLength = maxLength + maxNew + 128, Quantization = quantization });
        var builder = new ExampleBuilder(baseModel.Tokenizer, baseModel.EosIds, maxLength, policy, longPolicy);
        var tasks = new List<EvalTask>();
        foreach (var spec in taskSpecs)
        {
            var template = TemplateLibrary.Resolve(spec.Template ?? defaultTemplate ?? throw new CliException($"--data {spec.Path}: no template"), completion);
            var examples = new List<GenerationExample>();
            var sources = new List<string>();
            foreach (var r in JsonlReader.Read(spec.Path, policy, skips))
            {
                if (examples.Count == limit)
                {
                    break;
                }

                try
                {
                    var (prompt, target) = template.Phrasings[0].Render(r);
                    var e = builder.Tokenize(prompt, target, r.File, r.Line);
                    examples.Add(new GenerationExample(e.Ids[..e.PromptLength], target));
                    sources.Add($"{Path.GetFileName(r.File)}:{r.Line}" + (r.Fields.TryGetValue("id", out var id) ? $" ({id})" : ""));
                }
                catch (DataException e)
                {
                    skips.Handle(policy, e, "bad records");
                }
            }

            tasks.Add(new EvalTask($"{Path.GetFileNameWithoutExtension(spec.Path)}/{template.Name}", examples, sources, spec.Path, template.Name.Contains('#', StringComparison.Ordinal) ? template.Name : $"{template.Name}#0"));
        }

        List<string>? heldOut = null;
        if (pplText is not null)
        {
            heldOut = TextCorpus.ReadDocuments(pplText, pplField, policy, skips).Take(pplLimit).Select(r => r.Fields["text"]).ToList();
        }

        var results = Comparison.Run(baseModel, systems, tasks, heldOut, maxNew, pplBlock, batchSize, log);
        Directory.CreateDirectory(outDir);
        var settings = new { command = commandLine, quantization = quantization.Name(), limit, max_length = maxLength, max_new_tokens = maxNew, decoding = "greedy", ppl_text = pplText, ppl_documents = heldOut?.Count, ppl_block = pplBlock, skipped = skips.ByReason };
        File.WriteAllText(Path.Combine(outDir, "results.json"), Comparison.Json(results, tasks, settings));
        var md = $"<!-- {commandLine} -->\n\n" + Comparison.Markdown(results, tasks, show);
        File.WriteAllText(Path.Combine(outDir, "results.md"), md);
        log.WriteLine($"wrote {Path.Combine(outDir, "results.md")} and results.json");
        if (writeCards && tasks.Count > 0 && tasks[0].Examples.Count > 0)
        {
            foreach (var card in CardWriter.Write(results, tasks[0], cardMetric, baseModel.Name, DateTimeOffset.UtcNow, log))
            {
                log.WriteLine($"wrote the evaluation card {card} ({tasks[0].Name}, {cardMetric})");
            }
        }
        Console.Out.Write(md);
        return 0;
    }

    private static (string Name, string Dir) Named(string spec, string option)
    {
        var eq = spec.IndexOf('=');
        return eq > 0 ? (spec[..eq], spec[(eq + 1)..]) : throw new CliException($"{option} {spec}: expected NAME=DIR");
    }
}
