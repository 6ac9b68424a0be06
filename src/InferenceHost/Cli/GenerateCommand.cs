using System.Text.Json;
using InferenceHost.Engine.Generation;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;

namespace InferenceHost.Cli;

/// <summary>
/// <c>generate --model DIR --prompt TEXT [--max-tokens N] [--temperature T] [--top-p P] [--top-k K]
/// [--seed S] [--stop STR]... [--dtype float32|bfloat16|float16] [--json]</c>.
/// With --json prints <c>{"prompt_token_ids": [...], "token_ids": [...], "text": "..."}</c> (generated part only);
/// otherwise streams the text as it is generated.
/// </summary>
public static class GenerateCommand
{
    public static int Run(CliArgs args, TextWriter stdout)
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
        var options = new ModelLoadOptions { DType = DTypes.Parse(args.Get("dtype") ?? "float32") };
        args.RejectUnknown();
        sampling.Validate();

        using var model = ModelLoader.Load(modelDir, options);
        var ids = model.Tokenizer.Encode(prompt);
        using var seq = new Sequence(0, ids, sampling, model.Tokenizer, model.EosIds);
        var text = new System.Text.StringBuilder();
        new Generator(model).Run([seq], onToken: (_, e) =>
        {
            text.Append(e.Text);
            if (!json)
            {
                stdout.Write(e.Text);
                stdout.Flush();
            }
        });

        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(new
            {
                prompt_token_ids = ids,
                token_ids = seq.Generated,
                text = text.ToString(),
            }));
        }
        else
        {
            stdout.WriteLine();
        }

        return 0;
    }
}
