using static TorchSharp.torch;

namespace InferenceHost.Model.Llama;

/// <summary>
/// What every layer's attention needs for one forward pass, computed once per pass: positions,
/// the attention mask, and where in the cache the new keys and values go.
/// </summary>
internal sealed class AttentionContext
{
    private AttentionContext()
    {
    }

    public required Tensor Positions { get; init; } // [B, T] int64

    public required Tensor Mask { get; init; } // [B, 1, 1, T, Lk] bool: true = may attend

    public KvCache? Cache { get; init; }

    public Tensor? CacheRows { get; init; } // [B] int64

    /// <summary>When the batch's cache rows are consecutive (row b is CacheRowStart + b), a view replaces the gather.</summary>
    public long? CacheRowStart { get; init; }

    public Tensor? WriteSource { get; init; } // [N] int64: flat index b*T+t of each valid token

    public Tensor? WriteRows { get; init; } // [N] int64: its cache row

    public Tensor? WritePositions { get; init; } // [N] int64: its position

    public long KeyLength { get; init; } // Lk

    /// <summary>Builds the context; tensors are created in the caller's dispose scope.</summary>
    public static AttentionContext Create(ForwardBatch batch, Device device)
    {
        var b = batch.BatchSize;
        var t = batch.Embeddings.shape[1];
        var starts = tensor(batch.Starts, dtype: ScalarType.Int64).to(device); // [B]
        var steps = arange(t, dtype: ScalarType.Int64, device: device); // [T]
        var positions = starts.unsqueeze(1) + steps.unsqueeze(0); // [B, T]

        if (batch.Cache is null)
        {
            var causal = steps.unsqueeze(0) <= steps.unsqueeze(1); // [T(query), T(key)]
            return new AttentionContext
            {
                Positions = positions,
                Mask = causal.view(1, 1, 1, t, t).expand(b, 1, 1, t, t),
                KeyLength = t,
            };
        }

        var keyLength = Enumerable.Range(0, b).Max(i => batch.Starts[i] + t);
        keyLength = Math.Min(keyLength, batch.Cache.MaxLength);
        var keyPositions = arange(keyLength, dtype: ScalarType.Int64, device: device); // [Lk]
        var mask = keyPositions.view(1, 1, -1) <= positions.unsqueeze(-1); // [B, T, Lk]

        var source = new List<long>();
        var rows = new List<long>();
        var pos = new List<long>();
        for (var i = 0; i < b; i++)
        {
            for (var j = 0; j < batch.Lengths[i]; j++)
            {
                source.Add((i * t) + j);
                rows.Add(batch.CacheRows![i]);
                pos.Add(batch.Starts[i] + j);
            }
        }

        return new AttentionContext
        {
            Positions = positions.clamp_max(keyLength - 1), // padded tail positions never index past the tables
            Mask = mask.view(b, 1, 1, t, keyLength),
            Cache = batch.Cache,
            CacheRows = tensor(batch.CacheRows!, dtype: ScalarType.Int64).to(device),
            CacheRowStart = batch.CacheRows!.Select((r, i) => r - i).Distinct().Count() == 1 ? batch.CacheRows![0] : null,
            WriteSource = tensor(source.ToArray(), dtype: ScalarType.Int64).to(device),
            WriteRows = tensor(rows.ToArray(), dtype: ScalarType.Int64).to(device),
            WritePositions = tensor(pos.ToArray(), dtype: ScalarType.Int64).to(device),
            KeyLength = keyLength,
        };
    }
}
