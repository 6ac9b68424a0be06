using System.Text.Json;
using InferenceHost.Adapters;
using InferenceHost.Adapters.Peft;
using InferenceHost.CommandLine;
using InferenceHost.Model;
using InferenceHost.Model.Quantization;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Checks;

/// <summary>
/// <c>dtype-compare --fixtures DIR [--device cpu|cuda] [--dtype bfloat16] [--quantization none|int8|nf4] [--lora-mode unmerged|merged] [--out FILE]</c>:
/// for every case of <c>goldens.json</c> (base, each LoRA, the soft prompt), the logits at every prompt position in
/// <c>--dtype</c> (with its weights quantized as <c>--quantization</c> says) against float32 on the same device: the
/// largest and mean |difference|, the mean KL divergence of the next-token distribution, and how often the top-1
/// token agrees. A report, not a pass/fail check (the goldens bound float32 only).
/// <c>dtype-compare --model DIR --text FILE [--text-field dialogue] [--limit 50] [--max-tokens 256]</c> does the same
/// over held-out documents instead of the goldens (a trained model: the quantization's cost where the
/// distributions are peaked, which random fixtures cannot show).
/// </summary>
public static class DTypeCompareCommand
{
    public static int Run(CliArgs args, TextWriter stdout)
    {
        var fixtures = args.Get("fixtures");
        var modelDir = args.Get("model");
        if ((fixtures is null) == (modelDir is null))
        {
            throw new CliException("give --fixtures DIR (the golden cases) or --model DIR with --text FILE (held-out documents), not both");
        }

        var dtypeName = args.Get("dtype") ?? "bfloat16";
        var dtype = DTypes.Parse(dtypeName);
        var merged = args.Get("lora-mode") == "merged";
        var quantization = DTypes.ParseQuantization(args.Get("quantization") ?? "none");
        if (merged && quantization.MergeRefusal("--quantization") is { } refusal)
        {
            throw new CliException($"--lora-mode: {refusal}");
        }

        var outFile = args.Get("out");
        var deviceName = args.Get("device") ?? "cpu";
        var device = DeviceOption.Parse(deviceName);

        var rows = new List<object>();
        if (modelDir is not null)
        {
            rows.Add(CompareOnText(args, modelDir, dtype, quantization, device));
        }

        foreach (var f in fixtures is null ? [] : GoldenFile.Load(fixtures).Fixtures)
        {
            var dir = Path.Combine(fixtures!, f.Model);
            using var reference = ModelLoader.Load(dir, new ModelLoadOptions { DType = ScalarType.Float32, Device = device });
            using var low = ModelLoader.Load(dir, new ModelLoadOptions { DType = dtype, Device = device, Quantization = quantization });
            var stats = new List<CaseStats>();
            foreach (var c in f.Cases)
            {
                var ids = f.Prompts[c.Prompt].Ids;
                using var a = Logits(reference, dir, c.Adapter, ids, merged);
                using var b = Logits(low, dir, c.Adapter, ids, merged);
                stats.Add(CaseStats.Of(c.Label, a, b));
            }

            rows.Add(new
            {
                fixture = f.Model,
                cases = stats.Count,
                positions = stats.Sum(s => s.Positions),
                top1_agreement = (double)stats.Sum(s => s.Top1Agree) / stats.Sum(s => s.Positions),
                last_position_top1_agreement = (double)stats.Count(s => s.LastTop1Agrees) / stats.Count,
                mean_kl = stats.Sum(s => s.MeanKl * s.Positions) / stats.Sum(s => s.Positions),
                max_abs_error = stats.Max(s => s.MaxAbsError),
                mean_abs_error = stats.Average(s => s.MeanAbsError),
                per_case = stats,
            });
        }

        var text = JsonSerializer.Serialize(new { verb = "dtype-compare", model = modelDir, device = deviceName, dtype = dtypeName, quantization = quantization.ToString().ToLowerInvariant(), reference = "float32", lora_mode = merged ? "merged" : "unmerged", fixtures = rows }, ConformanceCommand.Json);
        stdout.WriteLine(text);
        if (outFile is not null)
        {
            File.WriteAllText(outFile, text);
        }

        return 0;
    }

    /// <summary>Every position of the first <c>--limit</c> documents of <c>--text</c> (a .jsonl field or plain lines), each cut to <c>--max-tokens</c>.</summary>
    private static object CompareOnText(CliArgs args, string dir, ScalarType dtype, Model.Quantization.WeightQuantization quantization, Device device)
    {
        var file = args.Get("text") ?? throw new CliException("--model needs --text FILE: the held-out documents to compare on");
        var field = args.Get("text-field") ?? "dialogue";
        var limit = args.Int("limit", 50);
        var maxTokens = args.Int("max-tokens", 256);
        if (limit < 1 || maxTokens < 2)
        {
            throw new CliException("--limit must be at least 1 and --max-tokens at least 2");
        }

        var documents = ReadDocuments(file, field, limit);
        using var reference = ModelLoader.Load(dir, new ModelLoadOptions { DType = ScalarType.Float32, Device = device });
        using var low = ModelLoader.Load(dir, new ModelLoadOptions { DType = dtype, Device = device, Quantization = quantization });
        var stats = new List<CaseStats>();
        foreach (var (doc, i) in documents.Select((d, i) => (d, i)))
        {
            var ids = reference.Tokenizer.Encode(doc).Take(Math.Min(maxTokens, reference.Config.MaxPositionEmbeddings)).ToArray();
            using var a = PromptLogits.Compute(reference, ids, [], merged: false);
            using var b = PromptLogits.Compute(low, ids, [], merged: false);
            stats.Add(CaseStats.Of($"{Path.GetFileName(file)}#{i}", a, b));
        }

        var positions = stats.Sum(s => s.Positions);
        return new
        {
            text = file,
            documents = stats.Count,
            positions,
            top1_agreement = (double)stats.Sum(s => s.Top1Agree) / positions,
            mean_kl = stats.Sum(s => s.MeanKl * s.Positions) / positions,
            max_abs_error = stats.Max(s => s.MaxAbsError),
            mean_abs_error = stats.Average(s => s.MeanAbsError),
        };
    }

    private static List<string> ReadDocuments(string file, string field, int limit)
    {
        if (!File.Exists(file))
        {
            throw new CliException($"--text: file '{file}' does not exist");
        }

        var docs = new List<string>();
        var line = 0;
        foreach (var raw in File.ReadLines(file))
        {
            line++;
            if (docs.Count == limit)
            {
                break;
            }

            if (string.IsNullOrWhiteSpace(raw))
            {
                continue;
            }

            if (!file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            {
                docs.Add(raw);
                continue;
            }

            try
            {
                using var json = JsonDocument.Parse(raw);
                docs.Add(json.RootElement.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0
                    ? v.GetString()!
                    : throw new CliException($"{file}:{line}: no non-empty string field '{field}' (--text-field)"));
            }
            catch (JsonException e)
            {
                throw new CliException($"{file}:{line}: not a JSON object ({e.Message})");
            }
        }

        return docs.Count > 0 ? docs : throw new CliException($"--text: '{file}' holds no documents");
    }

    private static Tensor Logits(LoadedModel model, string fixtureDir, string? adapter, IReadOnlyList<int> ids, bool merged)
    {
        if (adapter is null)
        {
            return PromptLogits.Compute(model, ids, [], merged);
        }

        using var loaded = PeftAdapterLoader.Load(adapter, Path.Combine(fixtureDir, "adapters", adapter), model.Config, model.Name, maxRank: 256);
        return PromptLogits.Compute(model, ids, [(loaded, 1.0)], merged);
    }

    /// <summary>One case: positions compared, top-1 agreements, the |difference| of the logits (max and mean), and the mean KL(reference ‖ other) in nats.</summary>
    public sealed record CaseStats(string Case, int Positions, int Top1Agree, bool LastTop1Agrees, double MaxAbsError, double MeanAbsError, double MeanKl)
    {
        public static CaseStats Of(string label, Tensor reference, Tensor other)
        {
            using var scope = NewDisposeScope();
            var diff = (reference - other).abs();
            var agree = reference.argmax(1).eq(other.argmax(1)); // [T]
            var t = (int)reference.shape[0];
            var logP = reference.log_softmax(1); // [T, V]
            var kl = (logP.exp() * (logP - other.log_softmax(1))).sum(1).mean().item<float>();
            return new CaseStats(label, t, (int)agree.sum().item<long>(), agree[t - 1].item<bool>(), diff.max().item<float>(), diff.mean().item<float>(), kl);
        }
    }
}
