using System.Text.Json;
using TorchSharp;

namespace InferenceHost.Model.Checkpoints;

/// <summary>
/// The weights of a Hugging Face model directory: one <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c>. Opening checks that the index and the shards agree exactly, so a
/// name maps to one tensor in one file. Pickled <c>pytorch_model.bin</c> checkpoints are refused.
/// </summary>
public sealed class CheckpointReader : IDisposable
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, SafetensorsFile> _fileOf;

    private CheckpointReader(string directory, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> fileOf)
    {
        Directory = directory;
        _files = files;
        _fileOf = fileOf;
    }

    public string Directory { get; }

    public IReadOnlyCollection<string> Names => _fileOf.Keys;

    public static CheckpointReader Open(string dir)
    {
        if (!System.IO.Directory.Exists(dir))
        {
            throw new CheckpointException(dir, "model directory not found");
        }

        var single = Path.Combine(dir, SingleFile);
        if (File.Exists(single))
        {
            // Same preference as transformers: a single file wins over an index beside it.
            var file = SafetensorsFile.Open(single);
            return new CheckpointReader(dir, [file], file.Tensors.Keys.ToDictionary(k => k, _ => file, StringComparer.Ordinal));
        }

        var index = Path.Combine(dir, IndexFile);
        if (File.Exists(index))
        {
            return OpenSharded(dir, index);
        }

        var pickles = new[] { "pytorch_model.bin", "pytorch_model.bin.index.json" }.Where(f => File.Exists(Path.Combine(dir, f))).ToList();
        throw new CheckpointException(dir, pickles.Count > 0
            ? $"has {string.Join(" and ", pickles)} but no {SingleFile} or {IndexFile}; pickled PyTorch checkpoints can run code when loaded and are refused; convert the model to safetensors"
            : $"has neither {SingleFile} nor {IndexFile}");
    }

    public TensorInfo Info(string name) => Owner(name).Info(name);

    public string FileOf(string name) => Owner(name).Path;

    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null) =>
        Owner(name).Load(name, dtype, device);

    /// <summary>
    /// Throws one error listing every missing key (in <paramref name="expected"/>, not in the checkpoint)
    /// and every unexpected key (in the checkpoint, in neither list).
    /// </summary>
    public void CheckNames(IReadOnlyCollection<string> expected, IReadOnlyCollection<string> optional)
    {
        var missing = expected.Where(n => !_fileOf.ContainsKey(n)).Order(StringComparer.Ordinal).ToList();
        var allowed = new HashSet<string>(expected.Concat(optional), StringComparer.Ordinal);
        var unexpected = _fileOf.Keys.Where(n => !allowed.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count == 0 && unexpected.Count == 0)
        {
            return;
        }

        var parts = new List<string>();
        if (missing.Count > 0)
        {
            parts.Add($"missing keys ({missing.Count}): {List(missing)}");
        }

        if (unexpected.Count > 0)
        {
            parts.Add($"unexpected keys ({unexpected.Count}): {List(unexpected)}");
        }

        throw new CheckpointException(Directory, "the checkpoint does not match the model: " + string.Join("; ", parts));
    }

    public void Dispose()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }
    }

    private SafetensorsFile Owner(string name) =>
        _fileOf.TryGetValue(name, out var file)
            ? file
            : throw new CheckpointException(Directory, $"no tensor named \"{name}\" in this checkpoint");

    private static string List(IReadOnlyList<string> names, int max = 20) =>
        string.Join(", ", names.Take(max)) + (names.Count > max ? $", ... ({names.Count - max} more)" : "");

    private static CheckpointReader OpenSharded(string dir, string index)
    {
        var weightMap = ReadWeightMap(index);
        var files = new List<SafetensorsFile>();
        try
        {
            var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var group in weightMap.GroupBy(kv => kv.Value, StringComparer.Ordinal))
            {
                var path = Path.Combine(dir, group.Key);
                if (!File.Exists(path))
                {
                    throw new CheckpointException(index,
                        $"shard \"{group.Key}\" (holding {group.Count()} tensors, e.g. \"{group.First().Key}\") is missing from {dir}");
                }

                var shard = SafetensorsFile.Open(path);
                files.Add(shard);
                shards.Add(group.Key, shard);
            }

            var inTwo = shards.Values.SelectMany(s => s.Tensors.Keys.Select(k => (Name: k, Shard: s)))
                .GroupBy(x => x.Name, StringComparer.Ordinal).Where(g => g.Count() > 1)
                .Select(g => $"\"{g.Key}\" in {string.Join(" and ", g.Select(x => Path.GetFileName(x.Shard.Path)))}").ToList();
            if (inTwo.Count > 0)
            {
                throw new CheckpointException(index, $"tensors stored in more than one shard: {List(inTwo)}");
            }

            var notInShard = weightMap.Where(kv => !shards[kv.Value].Tensors.ContainsKey(kv.Key))
                .Select(kv => $"\"{kv.Key}\" (listed in {kv.Value})").ToList();
            if (notInShard.Count > 0)
            {
                throw new CheckpointException(index, $"tensors listed in the index but absent from their shard: {List(notInShard)}");
            }

            var unlisted = shards.SelectMany(s => s.Value.Tensors.Keys.Where(k => !weightMap.ContainsKey(k)).Select(k => $"\"{k}\" (in {s.Key})"))
                .Order(StringComparer.Ordinal).ToList();
            if (unlisted.Count > 0)
            {
                throw new CheckpointException(index, $"shards hold tensors the index does not list: {List(unlisted)}");
            }

            var fileOf = weightMap.ToDictionary(kv => kv.Key, kv => shards[kv.Value], StringComparer.Ordinal);
            return new CheckpointReader(dir, files, fileOf);
        }
        catch
        {
            foreach (var file in files)
            {
                file.Dispose();
            }

            throw;
        }
    }

    private static Dictionary<string, string> ReadWeightMap(string index)
    {
        using var doc = StrictJson.ParseFile(index, "the shard index");
        if (doc.RootElement.ValueKind != JsonValueKind.Object
            || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException(index, "the shard index has no \"weight_map\" object");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in map.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointException(index, $"weight_map entry \"{entry.Name}\" is a JSON {entry.Value.ValueKind}, not a shard file name");
            }

            var shard = entry.Value.GetString()!;
            // Shards live beside the index; a path could point anywhere on the machine.
            if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || shard.Contains('\\'))
            {
                throw new CheckpointException(index, $"weight_map entry \"{entry.Name}\" names \"{shard}\", which is not a plain file name");
            }

            result.Add(entry.Name, shard);
        }

        if (result.Count == 0)
        {
            throw new CheckpointException(index, "the shard index's weight_map is empty");
        }

        return result;
    }
}
