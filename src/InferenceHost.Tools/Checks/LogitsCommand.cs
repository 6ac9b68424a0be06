using System.Globalization;
using System.Text.Json;
using InferenceHost.Adapters;
using InferenceHost.Adapters.Peft;
using InferenceHost.CommandLine;
using InferenceHost.Model;
using InferenceHost.Model.Checkpoints;
using static TorchSharp.torch;

namespace InferenceHost.Tools.Checks;

/// <summary>
/// <c>logits --model DIR (--prompt TEXT | --prompt-ids 1,2,3) [--adapter DIR[:WEIGHT]]... [--lora-mode unmerged|merged]
/// [--dtype float32] [--device cpu|cuda] --out FILE.safetensors</c>: the logits at every prompt position, written as
/// safetensors (<c>logits</c> [T, vocab] float32, <c>prompt_ids</c> [T] int64) for other tools to compare with;
/// prints a JSON summary (prompt ids, shape, the argmax and its logit per position).
/// </summary>
public static class LogitsCommand
{
    public static int Run(CliArgs args, TextWriter stdout)
    {
        var modelDir = args.Require("model");
        var text = args.Get("prompt");
        var idList = args.Get("prompt-ids");
        var adapterSpecs = args.GetAll("adapter");
        var merged = (args.Get("lora-mode") ?? "unmerged") switch
        {
            "unmerged" => false,
            "merged" => true,
            var other => throw new CliException($"--lora-mode: '{other}' is not unmerged or merged"),
        };
        var outFile = args.Require("out");
        var dtype = DTypes.Parse(args.Get("dtype") ?? "float32");
        var device = DeviceOption.Parse(args.Get("device"));
        if ((text is null) == (idList is null))
        {
            throw new CliException("give exactly one of --prompt TEXT and --prompt-ids 1,2,3");
        }

        using var model = ModelLoader.Load(modelDir, new ModelLoadOptions { DType = dtype, Device = device });
        var ids = text is not null ? model.Tokenizer.Encode(text) : ParseIds(idList!, model.Config.VocabSize);
        var adapters = adapterSpecs.Select(s => LoadAdapter(model, s)).ToList();
        try
        {
            using var logits = PromptLogits.Compute(model, ids, adapters, merged);
            using var idTensor = tensor(ids.Select(i => (long)i).ToArray(), dtype: ScalarType.Int64);
            SafetensorsWriter.Write(outFile, [new("logits", logits), new("prompt_ids", idTensor)]);
            var (top, argmax) = logits.max(1);
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                prompt_ids = ids,
                shape = logits.shape,
                argmax = argmax.data<long>().ToArray(),
                max_logit = top.data<float>().ToArray(),
                adapters = adapterSpecs,
                lora_mode = merged ? "merged" : "unmerged",
                out_file = outFile,
            }));
        }
        finally
        {
            adapters.ForEach(a => a.Adapter.Dispose());
        }

        return 0;
    }

    private static IReadOnlyList<int> ParseIds(string list, int vocab) => list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) && id >= 0 && id < vocab
            ? id : throw new CliException($"--prompt-ids: '{s}' is not a token id in 0..{vocab - 1}"))
        .ToArray();

    private static (Adapter Adapter, double Weight) LoadAdapter(LoadedModel model, string spec)
    {
        var (dir, weight) = GenerateCommand.ParseAdapter(spec);
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir)));
        return (PeftAdapterLoader.Load(name, dir, model.Config, model.Name, maxRank: 256), weight);
    }
}
