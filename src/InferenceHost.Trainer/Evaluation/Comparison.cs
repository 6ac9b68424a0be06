using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using InferenceHost.Adapters;
using InferenceHost.Adapters.Peft;
using InferenceHost.Adapters.Slots;
using InferenceHost.Model;
using InferenceHost.Model.Llama;
using InferenceHost.Trainer.Data;
using InferenceHost.Trainer.Output;
using InferenceHost.Trainer.Training;
using static TorchSharp.torch;

namespace InferenceHost.Trainer.Evaluation;

public enum SystemKind
{
    Base,
    Lora,
    PromptTuning,
    Full,
}

/// <summary>A system to evaluate: the base, an adapter on the base, or a separately trained full model.</summary>
public sealed record SystemSpec(string Name, SystemKind Kind, string Directory);

/// <summary>An evaluation task: examples of <paramref name="Data"/> rendered with <paramref name="Template"/> (prompt ids + reference).</summary>
public sealed record EvalTask(string Name, IReadOnlyList<GenerationExample> Examples, IReadOnlyList<string> Sources, string Data, string Template);

/// <summary>One system's results.</summary>
public sealed record SystemResult(
    string Name, SystemKind Kind, string Directory, long? TrainableParameters, long SizeBytes,
    Dictionary<string, TextScores> Scores, Dictionary<string, List<string>> Predictions, double? HeldOutPerplexity, double Seconds,
    Dictionary<string, Diversity> Diversity);

/// <summary>
/// Compares systems on the same tasks: greedy generations scored with ROUGE/BLEU, perplexity of
/// held-out text (forgetting), relative improvement over the base. Adapters go through the server's PEFT
/// loader and a LoRA through the server's own slot buffers and kernel (<see cref="LoraBatchDelta"/>), in the
/// base's dtype, so what is evaluated is what the server serves.
/// </summary>
public static class Comparison
{
    public static List<SystemResult> Run(LoadedModel baseModel, IReadOnlyList<SystemSpec> systems, IReadOnlyList<EvalTask> tasks,
        IReadOnlyList<string>? heldOutText, int maxNewTokens, int blockLength, int batchSize, TextWriter log)
    {
        var results = new List<SystemResult>();
        foreach (var s in systems)
        {
            var clock = Stopwatch.StartNew();
            LoadedModel? own = null;
            Adapter? adapter = null;
            LoraSlotBuffers? slot = null;
            try
            {
                var model = baseModel;
                ILinearDelta? delta = null;
                Tensor? prefix = null;
                long? trainable = null;
                switch (s.Kind)
                {
                    case SystemKind.Full:
                        own = ModelLoader.Load(s.Directory, new ModelLoadOptions { MaxSequenceLength = (int)baseModel.Model.MaxPositions, Quantization = baseModel.Model.Quantization });
                        model = own;
                        trainable = own.Model.parameters().Sum(p => p.numel());
                        break;
                    case SystemKind.Lora or SystemKind.PromptTuning:
                        adapter = PeftAdapterLoader.Load(s.Name, s.Directory, baseModel.Config, baseModel.Name, 256);
                        if (adapter is LoraAdapter lora)
                        {
                            slot = new LoraSlotBuffers(baseModel.Model, slots: 1, lora.MaxRank, lora.TargetKinds);
                            slot.Load(0, lora);
                            delta = LoraBatchDelta.ForAll(slot, 0);
                            trainable = lora.Modules.Values.Sum(m => m.A.numel() + m.B.numel());
                        }
                        else
                        {
                            prefix = ((SoftPromptAdapter)adapter).Embeddings.to_type(baseModel.Model.DType);
                            trainable = prefix.numel();
                        }

                        break;
                }

                var scores = new Dictionary<string, TextScores>();
                var predictions = new Dictionary<string, List<string>>();
                var diversity = new Dictionary<string, Diversity>();
                foreach (var task in tasks)
                {
                    var progress = new ProgressLine(log, $"{s.Name}/{task.Name}", task.Examples.Count);
                    var preds = new List<string>();
                    for (var at = 0; at < task.Examples.Count; at += batchSize)
                    {
                        var chunk = task.Examples.Skip(at).Take(batchSize).ToList();
                        preds.AddRange(GreedyDecoder.Generate(model, chunk.Select(e => e.PromptIds).ToList(), maxNewTokens, delta, prefix, batchSize));
                        progress.Update(preds.Count, "");
                    }

                    progress.Finish();
                    predictions[task.Name] = preds;
                    scores[task.Name] = TextScores.Compute(preds, task.Examples.Select(e => e.Reference).ToList());
                    diversity[task.Name] = Diversity.Compute(preds);
                }

                double? ppl = null;
                if (heldOutText is { Count: > 0 })
                {
                    var eos = model.Tokenizer.EosId ?? model.EosIds.First();
                    var docs = heldOutText.Select((t, i) => new Record("held-out", i + 1, new Dictionary<string, string> { ["text"] = t })).ToList();
                    var blocks = TextCorpus.Blocks(docs, model.Tokenizer, eos, blockLength);
                    ppl = Math.Exp(CausalLmLoss.Mean(model.Model, Batching.Pad(blocks, batchSize, eos), delta, prefix));
                }

                var size = s.Kind == SystemKind.Base ? 0 : PeftWriter.SizeOnDisk(s.Directory);
                results.Add(new SystemResult(s.Name, s.Kind, s.Directory, trainable, size, scores, predictions, ppl, clock.Elapsed.TotalSeconds, diversity));
                log.WriteLine($"{s.Name}: " + string.Join("; ", scores.Select(kv => $"{kv.Key} ROUGE-L {kv.Value.RougeL:F2}, distinct-2 {diversity[kv.Key].Distinct2:F3}, repetition {diversity[kv.Key].RepetitionRate:F3}")) + (ppl is null ? "" : $"; held-out perplexity {ppl:F2}") + $" ({clock.Elapsed.TotalSeconds:F0}s)");
            }
            finally
            {
                slot?.Dispose();
                adapter?.Dispose();
                own?.Dispose();
            }
        }

        return results;
    }

    private static string Pct(double value, double reference) =>
        reference == 0 ? "n/a" : (100 * (value - reference) / reference).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + "%";

    private static string Params(long? n) => n is null ? "0" : n.Value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Markdown: per task a table of absolute scores and relative change over the first (base) system; forgetting; examples.</summary>
    public static string Markdown(IReadOnlyList<SystemResult> results, IReadOnlyList<EvalTask> tasks, int examplesToShow)
    {
        var md = new StringBuilder();
        var baseline = results[0];
        foreach (var task in tasks)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"### {task.Name} ({task.Examples.Count} examples)").AppendLine();
            md.AppendLine("| system | kind | trainable params | size on disk | ROUGE-1 | ROUGE-2 | ROUGE-L | ROUGE-Lsum | BLEU | exact match | ROUGE-L vs base | BLEU vs base | distinct-2 | repetition |");
            md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var b = baseline.Scores[task.Name];
            foreach (var r in results)
            {
                var s = r.Scores[task.Name];
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {r.Name} | {r.Kind} | {Params(r.TrainableParameters)} | {(r.SizeBytes == 0 ? "-" : $"{r.SizeBytes / 1024.0:N1} KiB")} | {s.Rouge1:F2} | {s.Rouge2:F2} | {s.RougeL:F2} | {s.RougeLsum:F2} | {s.Bleu:F2} | {s.ExactMatch:F1} | {(ReferenceEquals(r, baseline) ? "-" : Pct(s.RougeL, b.RougeL))} | {(ReferenceEquals(r, baseline) ? "-" : Pct(s.Bleu, b.Bleu))} | {r.Diversity[task.Name].Distinct2:F3} | {r.Diversity[task.Name].RepetitionRate:F3} |");
            }

            md.AppendLine();
        }

        md.AppendLine("exact match: the generation's first line equals the reference after lower-casing, dropping punctuation and " +
            "collapsing white space (per cent of examples). ").AppendLine();
        md.AppendLine("distinct-2: distinct word bigrams over all bigrams of a system's generations (Li et al. 2016); repetition: " +
            "share of a generation's word 4-grams that repeat an earlier one in it, averaged (seq-rep-4, Welleck et al. 2019).").AppendLine();

        if (results.All(r => r.HeldOutPerplexity is not null))
        {
            md.AppendLine("### Forgetting: perplexity of held-out pre-training-domain text").AppendLine();
            md.AppendLine("| system | perplexity | change vs base |");
            md.AppendLine("|---|---:|---:|");
            foreach (var r in results)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.HeldOutPerplexity:F2} | {(ReferenceEquals(r, baseline) ? "-" : Pct(r.HeldOutPerplexity!.Value, baseline.HeldOutPerplexity!.Value))} |");
            }

            md.AppendLine();
        }

        foreach (var task in tasks)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"### Example generations: {task.Name}").AppendLine();
            for (var i = 0; i < Math.Min(examplesToShow, task.Examples.Count); i++)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"**{task.Sources[i]}**").AppendLine();
                md.AppendLine("| system | output |").AppendLine("|---|---|");
                md.AppendLine(CultureInfo.InvariantCulture, $"| reference | {Cell(task.Examples[i].Reference)} |");
                foreach (var r in results)
                {
                    md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {Cell(r.Predictions[task.Name][i])} |");
                }

                md.AppendLine();
            }
        }

        return md.ToString();
    }

    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal).Trim() is { Length: > 0 } t ? t : "(empty)";

    public static string Json(IReadOnlyList<SystemResult> results, IReadOnlyList<EvalTask> tasks, object settings)
    {
        var baseline = results[0];
        return JsonSerializer.Serialize(new
        {
            settings,
            tasks = tasks.Select(t => new { name = t.Name, examples = t.Examples.Count }),
            systems = results.Select(r => new
            {
                name = r.Name,
                kind = r.Kind,
                directory = r.Directory,
                trainable_parameters = r.TrainableParameters,
                size_bytes = r.SizeBytes,
                seconds = r.Seconds,
                held_out_perplexity = r.HeldOutPerplexity,
                scores = r.Scores,
                diversity = r.Diversity,
                relative_to_base = r.Scores.ToDictionary(kv => kv.Key, kv =>
                {
                    var b = baseline.Scores[kv.Key];
                    double? Rel(double v, double w) => w == 0 ? null : (v - w) / w;
                    return new
                    {
                        rouge1 = Rel(kv.Value.Rouge1, b.Rouge1),
                        rouge2 = Rel(kv.Value.Rouge2, b.Rouge2),
                        rougeL = Rel(kv.Value.RougeL, b.RougeL),
                        rougeLsum = Rel(kv.Value.RougeLsum, b.RougeLsum),
                        bleu = Rel(kv.Value.Bleu, b.Bleu),
                    };
                }),
                predictions = r.Predictions,
            }),
        }, Report.Json);
    }
}
