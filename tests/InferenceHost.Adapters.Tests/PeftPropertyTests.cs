using System.Text.Json.Nodes;
using InferenceHost.Adapters.Peft;
using InferenceHost.Engine;
using InferenceHost.Engine.Sampling;
using InferenceHost.Model;
using InferenceHost.Model.Checkpoints;
using InferenceHost.Model.Llama;
using InferenceHost.Tests.Shared;
using static TorchSharp.torch;

namespace InferenceHost.Adapters.Tests;

/// <summary>PEFT-style properties: zero-B is a no-op, merge/restore is exact, and bad adapters are refused clearly.</summary>
public sealed class PeftPropertyTests : IDisposable
{
    private readonly LoadedModel model = ModelLoader.Load(TestFixtures.ModelDir("tiny-llama"));
    private readonly string temp = Directory.CreateTempSubdirectory("peft-tests-").FullName;

    [Fact]
    public async Task A_lora_with_zero_B_leaves_the_output_unchanged()
    {
        var dir = CopyAdapter("lora-all", "zero-b");
        RewriteTensors(dir, (name, t) => name.Contains("lora_B") ? zeros_like(t) : t);
        var registry = new AdapterRegistry(model.Config, model.Name, 4, 64);
        registry.Register("zero-b", dir);
        using var engine = new InferenceEngine(model, new EngineOptions(), registry);
        var prompt = TestFixtures.Goldens.Fixtures[0].Prompts[0].Ids;
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = 8, IgnoreEos = true, Logprobs = 5 };
        var plain = await engine.Submit(new GenerationRequest { PromptIds = prompt, Sampling = sampling, RecordFirstStepTopLogits = true }).Completion;
        var zero = await engine.Submit(new GenerationRequest { PromptIds = prompt, Sampling = sampling, Adapters = [new("zero-b")], RecordFirstStepTopLogits = true }).Completion;
        Assert.Equal(plain.TokenIds, zero.TokenIds);
        Assert.Equal(plain.FirstStepTopLogits, zero.FirstStepTopLogits);
    }

    [Fact]
    public void Ten_thousand_merge_switches_restore_the_base_bit_for_bit()
    {
        var a = (LoraAdapter)PeftAdapterLoader.Load("lora-all", TestFixtures.AdapterDir("tiny-llama", "lora-all"), model.Config, null, 64);
        var b = (LoraAdapter)PeftAdapterLoader.Load("lora-qv", TestFixtures.AdapterDir("tiny-llama", "lora-qv"), model.Config, null, 64);
        var originals = model.Model.Linears.Select(l => l.Weight.clone()).ToArray();
        using var merger = new WeightMerger(model.Model);
        for (var i = 0; i < 10_000; i++)
        {
            merger.Merge([new LoraUse(i % 2 == 0 ? a : b, 1.0)]);
        }

        Assert.False(model.Model.Linear(new LinearSite(0, LinearKind.QProj)).Weight.equal(originals[0]).all().item<bool>()); // merged right now
        merger.Restore();
        var linears = model.Model.Linears;
        for (var i = 0; i < linears.Count; i++)
        {
            Assert.True(linears[i].Weight.equal(originals[i]).all().item<bool>(), $"{linears[i].Site} differs from the original after 10,000 switches");
        }

        a.Dispose();
        b.Dispose();
    }

    public static TheoryData<string, string, string> BrokenAdapters() => new()
    {
        { "use_dora", "{\"use_dora\": true}", "use_dora" },
        { "modules_to_save", "{\"modules_to_save\": [\"lm_head\"]}", "modules_to_save" },
        { "bias", "{\"bias\": \"all\"}", "bias" },
        { "peft_type", "{\"peft_type\": \"IA3\"}", "peft_type" },
        { "missing_target", "{\"target_modules\": [\"q_proj\", \"foo_proj\"]}", "foo_proj" },
        { "rank", "{\"r\": 4, \"lora_alpha\": 8}", "shape" },
        { "wrong_type", "{\"r\": \"eight\"}", "r" },
    };

    [Theory]
    [MemberData(nameof(BrokenAdapters))]
    public void Broken_configs_are_refused_naming_the_adapter_and_field(string name, string patch, string mentioned)
    {
        var dir = CopyAdapter("lora-qv", name);
        var path = Path.Combine(dir, "adapter_config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        foreach (var (k, v) in JsonNode.Parse(patch)!.AsObject())
        {
            config[k] = v?.DeepClone();
        }

        File.WriteAllText(path, config.ToJsonString());
        var e = Assert.Throws<AdapterException>(() => PeftAdapterLoader.Load(name, dir, model.Config, null, 64));
        Assert.Contains($"'{name}'", e.Message);
        Assert.Contains(mentioned, e.Message);
    }

    [Fact]
    public void Pickle_only_adapters_are_never_loaded()
    {
        var dir = CopyAdapter("lora-qv", "pickled");
        File.Move(Path.Combine(dir, PeftNames.WeightsFile), Path.Combine(dir, "adapter_model.bin"));
        var e = Assert.Throws<AdapterException>(() => PeftAdapterLoader.Load("pickled", dir, model.Config, null, 64));
        Assert.Contains("pickle", e.Message);
    }

    [Fact]
    public void Rank_above_the_maximum_non_finite_values_and_truncation_are_refused()
    {
        var dir = CopyAdapter("lora-qv", "big");
        Assert.Contains("Lora:MaxRank", Assert.Throws<AdapterException>(() => PeftAdapterLoader.Load("big", dir, model.Config, null, 4)).Message);

        var nan = CopyAdapter("lora-qv", "nan");
        RewriteTensors(nan, (name, t) => name.Contains("layers.1.self_attn.v_proj.lora_A") ? t.index_put_(float.NaN, 0, 0) : t);
        Assert.Contains("NaN", Assert.Throws<AdapterException>(() => PeftAdapterLoader.Load("nan", nan, model.Config, null, 64)).Message);

        var cut = CopyAdapter("lora-qv", "cut");
        var file = Path.Combine(cut, PeftNames.WeightsFile);
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<AdapterException>(() => PeftAdapterLoader.Load("cut", cut, model.Config, null, 64));
        Assert.Contains("'cut'", e.Message);
    }

    [Fact]
    public void A_different_base_model_name_is_a_warning_not_an_error()
    {
        var dir = CopyAdapter("lora-qv", "other-base");
        var path = Path.Combine(dir, "adapter_config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        config["base_model_name_or_path"] = "meta-llama/Llama-2-7b-hf";
        File.WriteAllText(path, config.ToJsonString());
        using var adapter = PeftAdapterLoader.Load("other-base", dir, model.Config, "tiny-llama", 64);
        Assert.Contains(adapter.Warnings, w => w.Contains("Llama-2-7b-hf"));
    }

    [Fact]
    public void A_soft_prompt_of_the_wrong_width_is_refused()
    {
        var dir = CopyAdapter("soft-8", "narrow");
        RewriteTensors(dir, (_, t) => t.narrow(1, 0, 32).contiguous());
        var e = Assert.Throws<AdapterException>(() => PeftAdapterLoader.Load("narrow", dir, model.Config, null, 64));
        Assert.Contains("64", e.Message);
    }

    public void Dispose()
    {
        model.Dispose();
        Directory.Delete(temp, recursive: true);
    }

    private string CopyAdapter(string source, string name)
    {
        var dir = Path.Combine(temp, name);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(TestFixtures.AdapterDir("tiny-llama", source)))
        {
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        }

        return dir;
    }

    private static void RewriteTensors(string dir, Func<string, Tensor, Tensor> change)
    {
        var path = Path.Combine(dir, PeftNames.WeightsFile);
        Dictionary<string, Tensor> tensors;
        using (var file = SafetensorsFile.Open(path))
        {
            tensors = file.Tensors.Keys.ToDictionary(k => k, k => change(k, file.Load(k)));
        }

        SafetensorsWriter.Write(path, tensors);
    }
}
