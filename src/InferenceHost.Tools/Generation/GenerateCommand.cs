using InferenceHost.CommandLine;
using System.Globalization;
using System.Text.Json;
using InferenceHost.Adapters;
using InferenceHost.Engine;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;

namespace InferenceHost.Tools;

/// <summary>
/// <c>generate --model DIR --prompt TEXT [--max-tokens N] [--temperature T] [--top-p P] [--top-k K]
/// [--seed S] [--stop STR]... [--adapter DIR[:WEIGHT]]... [--lora-mode unmerged|merged] [--dtype float32|bfloat16|float16] [--device cpu|cuda] [--json]</c>.
/// With --json prints <c>{"prompt_token_ids": [...], "token_ids": [...], "text": "..."}</c> (generated part only);
/// otherwise streams the text as it is generated. Adapters are PEFT directories (LoRAs are summed with
/// their weights; at most one soft prompt).
/// </summary>
public static class GenerateCommand
{
    public static async Task<int> RunAsync(CliArgs args, TextWriter stdout)
    {
        var modelDir = args.Require("model");
        var prompt = args.Require("prompt");
        var json = args.Flag("json");
        var sampling = new SamplingParams
        {
            MaxTokens = args.Int("max-tokens", 64),
            Temperature = args.Double("temperature", 1.0),
            TopP = args.Double("top-p", 1.0),
            TopK = args.Int("top-k", 0),
            Seed = args.Long("seed"),
            Stop = args.GetAll("stop"),
        };
        var adapters = args.GetAll("adapter").Select(ParseAdapter).ToList();
        var mode = (args.Get("lora-mode") ?? "unmerged") switch
        {
            "unmerged" => LoraMode.Unmerged,
            "merged" => LoraMode.Merged,
            var other => throw new CliException($"--lora-mode: '{other}' is not unmerged or merged"),
        };
        var options = new ModelLoadOptions { DType = DTypes.Parse(args.Get("dtype") ?? "float32"), Device = Checks.DeviceOption.Parse(args.Get("device")) };
        sampling.Validate();

        using var model = ModelLoader.Load(modelDir, options);
        using var registry = new AdapterRegistry(model.Config, model.Name, capacity: Math.Max(1, adapters.Count), maxRank: 256);
        var requested = new List<AdapterRequest>();
        foreach (var (dir, weight) in adapters)
        {
            var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
            registry.Register(name, dir);
            requested.Add(new AdapterRequest(name, weight));
        }

        var ids = model.Tokenizer.Encode(prompt);
        using var engine = new InferenceEngine(model, new EngineOptions { MaxBatchSize = 1, Mode = mode, MaxLoraRank = 256, MaxLoraSlots = Math.Max(1, adapters.Count) }, registry);
        var handle = engine.Submit(new GenerationRequest { PromptIds = ids, Sampling = sampling, Adapters = requested });
        if (!json)
        {
            await foreach (var e in handle.Tokens.ReadAllAsync())
            {
                stdout.Write(e.Text);
                stdout.Flush();
            }
        }

        var result = await handle.Completion;
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new { prompt_token_ids = ids, token_ids = result.TokenIds, text = result.Text }, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }
        else
        {
            stdout.WriteLine();
        }

        return 0;
    }

    internal static (string Dir, double Weight) ParseAdapter(string spec)
    {
        var colon = spec.LastIndexOf(':');
        if (colon > 0 && double.TryParse(spec[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var w))
        {
            return (spec[..colon], w);
        }

        return (spec, 1.0);
    }
}
