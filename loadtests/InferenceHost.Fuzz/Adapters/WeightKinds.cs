using System.Text;
using System.Text.Json.Nodes;
using static InferenceHost.Fuzz.Adapters.BrokenKind;

namespace InferenceHost.Fuzz.Adapters;

/// <summary>Broken <c>adapter_model.safetensors</c> files: framing, offsets, dtypes, shapes, values, keys.</summary>
internal static class WeightKinds
{
    private const string G = "weights";

    private static byte[] Valid(AdapterWorkspace w) => SafetensorsBytes.Write(w.Source.Tensors);

    private static Func<AdapterWorkspace, string> Offsets(JsonNode value) => WithHeader(h => h[AKey(h)]!["data_offsets"] = value.DeepClone());

    private static Func<AdapterWorkspace, string> Tensors(Func<List<TensorEntry>, List<TensorEntry>> edit) => WithWeights(w => SafetensorsBytes.Write(edit(w.Source.Tensors)));

    private static string Rename(string name, string from, string to) => name.Replace(from, to, StringComparison.Ordinal);

    public static IEnumerable<BrokenKind> All() =>
    [
        new("empty-weights", G, "a 0-byte weights file", Expect.Refuse, WithWeights(_ => [])),
        new("too-short", G, "4 bytes, shorter than the length prefix", Expect.Refuse, WithWeights(_ => [1, 2, 3, 4])),
        new("truncated-data", G, "the data cut 100 bytes short", Expect.Refuse, WithWeights(w => Valid(w)[..^100])),
        new("truncated-header", G, "cut inside the JSON header", Expect.Refuse, WithWeights(w => Valid(w)[..28])),
        new("header-length-huge", G, "header length 2^63", Expect.Refuse, WithWeights(w => Reframe(w, 1UL << 63))),
        new("header-length-past-end", G, "header length = file length", Expect.Refuse, WithWeights(w => Reframe(w, (ulong)Valid(w).Length))),
        new("header-length-zero", G, "header length 0", Expect.Refuse, WithWeights(w => Reframe(w, 0))),
        new("header-length-short", G, "header length 10 bytes too short", Expect.Refuse, WithWeights(w => Reframe(w, null, -10))),
        new("header-not-json", G, "a header that is not JSON", Expect.Refuse, WithWeights(_ => SafetensorsBytes.Frame(Encoding.UTF8.GetBytes("not json at all"), new byte[64]))),
        new("header-not-object", G, "a header that is a JSON list", Expect.Refuse, WithWeights(_ => SafetensorsBytes.Frame(Encoding.UTF8.GetBytes("[1, 2]"), new byte[64]))),
        new("header-invalid-utf8", G, "a header with bytes that are not UTF-8", Expect.Refuse, WithWeights(_ => SafetensorsBytes.Frame([(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}'], []))),
        new("header-duplicate-key", G, "one tensor key twice in the header", Expect.Refuse, WithWeights(DuplicateKey)),
        new("header-deep-nesting", G, "__metadata__ nested 10,000 deep", Expect.Refuse, WithWeights(DeepHeader)),
        new("metadata-not-strings", G, "__metadata__ with a number value", Expect.Refuse, WithHeader(h => h["__metadata__"] = new JsonObject { ["format"] = 1 })),
        new("offsets-past-end", G, "data_offsets [0, 2^30]", Expect.Refuse, Offsets(new JsonArray(0, 1 << 30))),
        new("offsets-reversed", G, "data_offsets [2048, 0]", Expect.Refuse, Offsets(new JsonArray(2048, 0))),
        new("offsets-negative", G, "data_offsets [-8, 2040]", Expect.Refuse, Offsets(new JsonArray(-8, 2040))),
        new("offsets-size-mismatch", G, "data_offsets 4 bytes short of the shape", Expect.Refuse, Offsets(new JsonArray(0, 2044))),
        new("offsets-overlap", G, "two tensors over the same bytes", Expect.Refuse, WithHeader(h => h.Skip(1).First().Value!["data_offsets"] = h[AKey(h)]!["data_offsets"]!.DeepClone())),
        new("offsets-not-numbers", G, "data_offsets as strings", Expect.Refuse, Offsets(new JsonArray("0", "2048"))),
        new("offsets-u64-max", G, "data_offsets [0, 2^64-1]", Expect.Refuse, Offsets(new JsonArray(0, ulong.MaxValue))),
        new("offsets-missing", G, "a tensor without data_offsets", Expect.Refuse, WithHeader(h => h[AKey(h)]!.AsObject().Remove("data_offsets"))),
        new("dtype-I32", G, "lora_A stored as I32", Expect.Refuse, WithA(a => a with { DType = "I32" })),
        new("dtype-BOOL", G, "lora_A stored as BOOL", Expect.Refuse, WithA(a => a with { DType = "BOOL", Data = new byte[Numel(a)] })),
        new("dtype-U8", G, "lora_A stored as U8", Expect.Refuse, WithA(a => a with { DType = "U8", Data = new byte[Numel(a)] })),
        new("dtype-unknown", G, "dtype Q4_0", Expect.Refuse, WithA(a => a with { DType = "Q4_0" })),
        new("dtype-F64-overflow", G, "F64 values of 1e39 (beyond float32)", Expect.Refuse, WithA(a => a with { DType = "F64", Data = Repeat(BitConverter.GetBytes(1e39), Numel(a)) })),
        new("dtype-F16-inf", G, "F16 tensor of +Inf bit patterns", Expect.Refuse, WithA(a => a with { DType = "F16", Data = Repeat([0x00, 0x7C], Numel(a)) })),
        new("dtype-BF16-nan", G, "BF16 tensor of NaN bit patterns", Expect.Refuse, WithA(a => a with { DType = "BF16", Data = Repeat([0xC0, 0x7F], Numel(a)) })),
        new("shape-wrong", G, "lora_A [8, 63]", Expect.Refuse, WithA(a => a with { Shape = [a.Shape[0], a.Shape[1] - 1], Data = a.Data[..(int)(a.Shape[0] * (a.Shape[1] - 1) * 4)] })),
        new("shape-3d", G, "lora_A [8, 8, 8] (same bytes)", Expect.Refuse, WithA(a => a with { Shape = [8, 8, a.Shape[1] / 8] })),
        new("shape-negative", G, "lora_A [-8, -64]", Expect.Refuse, WithA(a => a with { Shape = [-a.Shape[0], -a.Shape[1]] })),
        new("shape-zero-rank", G, "lora_A [0, 64] with no data", Expect.Refuse, WithA(a => a with { Shape = [0, a.Shape[1]], Data = [] })),
        new("shape-scalar", G, "lora_A with shape []", Expect.Refuse, WithA(a => a with { Shape = [], Data = a.Data[..4] })),
        new("nan-values", G, "lora_A full of NaN", Expect.Refuse, WithA(a => a with { Data = SafetensorsBytes.Fill((int)Numel(a), float.NaN) })),
        new("inf-values", G, "lora_A full of +Inf", Expect.Refuse, WithA(a => a with { Data = SafetensorsBytes.Fill((int)Numel(a), float.PositiveInfinity) })),
        new("huge-values-1e30", G, "lora_A and lora_B of 1e30", Expect.Refuse, Tensors(t => t.Select(x => x with { Data = SafetensorsBytes.Fill((int)Numel(x), 1e30f) }).ToList())),
        new("delta-overflow", G, "finite A, B of 1e19: the delta overflows float32", Expect.Refuse, Tensors(t => t.Select(x => x with { Data = SafetensorsBytes.Fill((int)Numel(x), 1e19f) }).ToList())),
        new("unknown-tensor", G, "an extra q_proj.bias tensor", Expect.Refuse, Tensors(t => [.. t, t[0] with { Name = Rename(t[0].Name, "lora_A.weight", "bias") }])),
        new("lora-A-without-B", G, "one lora_B removed", Expect.Refuse, Tensors(t => t.Where((x, i) => i != t.FindIndex(y => y.Name.Contains(".lora_B.", StringComparison.Ordinal))).ToList())),
        new("dora-magnitude", G, "a lora_magnitude_vector tensor", Expect.Refuse, Tensors(t => [.. t, t[0] with { Name = Rename(t[0].Name, "lora_A", "lora_magnitude_vector") }])),
        new("embedding-lora", G, "a lora_embedding_A tensor", Expect.Refuse, Tensors(t => [.. t, t[0] with { Name = Rename(t[0].Name, "lora_A", "lora_embedding_A") }])),
        new("layer-out-of-range", G, "tensors for layer 99", Expect.Refuse, Tensors(t => t.Select(x => x with { Name = Rename(x.Name, "layers.0.", "layers.99.") }).ToList())),
        new("wrong-parent-module", G, "q_proj under mlp", Expect.Refuse, Tensors(t => t.Select(x => x with { Name = Rename(x.Name, "self_attn.q_proj", "mlp.q_proj") }).ToList())),
        new("not-a-peft-key", G, "a tensor named 'weights'", Expect.Refuse, Tensors(t => [.. t, t[0] with { Name = "weights" }])),
        new("no-tensors", G, "a header with no tensors", Expect.Refuse, WithWeights(_ => SafetensorsBytes.Frame(Encoding.UTF8.GetBytes("{}"), []))),
        new("untargeted-weights", G, "weights for v_proj, target_modules only q_proj", Expect.Refuse, w =>
        {
            var config = w.Source.Config;
            config["target_modules"] = new JsonArray("q_proj");
            w.Config(config);
            return w.Weights(w.Source.Tensors);
        }),
        new("rank-vs-config", G, "config r=4, tensors r=8", Expect.Refuse, WithConfig(c => c["r"] = 4)),
    ];

    private static byte[] Reframe(AdapterWorkspace w, ulong? length, int delta = 0)
    {
        var valid = Valid(w);
        var header = (ulong)BitConverter.ToInt64(valid, 0);
        BitConverter.GetBytes(length ?? (ulong)((long)header + delta)).CopyTo(valid, 0);
        return valid;
    }

    private static byte[] DuplicateKey(AdapterWorkspace w)
    {
        var valid = Valid(w);
        var length = (int)BitConverter.ToInt64(valid, 0);
        var header = Encoding.UTF8.GetString(valid, 8, length);
        var first = JsonNode.Parse(header)!.AsObject().First();
        var text = "{" + $"\"{first.Key}\":{first.Value!.ToJsonString()}," + header[1..];
        return SafetensorsBytes.Frame(Encoding.UTF8.GetBytes(text), valid[(8 + length)..]);
    }

    private static byte[] DeepHeader(AdapterWorkspace w)
    {
        var valid = Valid(w);
        var length = (int)BitConverter.ToInt64(valid, 0);
        var header = Encoding.UTF8.GetString(valid, 8, length);
        var deep = "{\"__metadata__\":" + string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "\"x\"" + new string('}', 10_000) + "," + header[1..];
        return SafetensorsBytes.Frame(Encoding.UTF8.GetBytes(deep), valid[(8 + length)..]);
    }

    private static byte[] Repeat(byte[] pattern, long count) => Enumerable.Range(0, (int)count).SelectMany(_ => pattern).ToArray();
}
