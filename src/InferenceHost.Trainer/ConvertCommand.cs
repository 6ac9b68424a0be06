using InferenceHost.CommandLine;
using InferenceHost.Model;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Trainer.Output;

namespace InferenceHost.Trainer;

/// <summary>
/// <c>convert --model DIR --dtype bfloat16 --out DIR</c>: the checkpoint with every weight cast to another dtype
/// (round to nearest even), in the Hugging Face layout the trainer writes, its config's <c>torch_dtype</c> saying
/// so and its tokenizer files copied: how a model trained in float32 ships in half the bytes.
/// </summary>
public static class ConvertCommand
{
    public static int Run(CliArgs args, TextWriter log)
    {
        var dir = args.Require("model");
        var outDir = args.Require("out");
        var dtypeName = args.Get("dtype") ?? "bfloat16";
        var dtype = DTypes.Parse(dtypeName);
        if (Path.GetFullPath(dir).TrimEnd('/') == Path.GetFullPath(outDir).TrimEnd('/'))
        {
            throw new CliException($"--out {outDir}: the same directory as --model; write the converted checkpoint elsewhere");
        }

        using var model = ModelLoader.Load(dir, new ModelLoadOptions { DType = dtype });
        var name = LlamaConfig.TorchDtypeName(dtype);
        PeftWriter.WriteFull(outDir, model.Model, dir, model.Config with { TorchDtype = name });
        log.WriteLine($"wrote {outDir}: {model.Model.parameters().Sum(p => p.numel()):N0} parameters in {name}, {PeftWriter.SizeOnDisk(outDir) / (1024.0 * 1024):F1} MiB on disk (from {PeftWriter.SizeOnDisk(dir) / (1024.0 * 1024):F1} MiB)");
        return 0;
    }
}
