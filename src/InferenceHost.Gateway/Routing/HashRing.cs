using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace InferenceHost.Gateway.Routing;

/// <summary>
/// A consistent-hash ring (Karger et al.; ketama's layout): every replica owns <c>virtualNodes</c> points on a
/// 64-bit circle, a key belongs to the first point clockwise from its own hash. Removing a replica moves only
/// the keys it owned; adding it back returns exactly those keys. Immutable; hashes are SHA-256 truncated to
/// 64 bits, so positions are the same in every process and on every machine.
/// </summary>
public sealed class HashRing
{
    private readonly ulong[] points;   // sorted positions
    private readonly int[] owners;     // owners[i] = index into Replicas of the replica at points[i]

    public HashRing(IEnumerable<string> replicas, int virtualNodes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(virtualNodes, 1);
        Replicas = replicas.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var ring = new List<(ulong Point, int Owner)>(Replicas.Count * virtualNodes);
        for (var r = 0; r < Replicas.Count; r++)
        {
            for (var v = 0; v < virtualNodes; v++)
            {
                ring.Add((Hash($"{Replicas[r]}#{v}"), r));
            }
        }

        ring.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : a.Owner.CompareTo(b.Owner));
        points = ring.Select(p => p.Point).ToArray();
        owners = ring.Select(p => p.Owner).ToArray();
    }

    /// <summary>The replicas on the ring, in ordinal order.</summary>
    public IReadOnlyList<string> Replicas { get; }

    /// <summary>Every replica once, in the order met walking clockwise from <paramref name="key"/>'s position.</summary>
    public IReadOnlyList<string> Preference(string key)
    {
        var order = new List<string>(Replicas.Count);
        if (points.Length == 0)
        {
            return order;
        }

        var seen = new bool[Replicas.Count];
        var start = Array.BinarySearch(points, Hash(key));
        start = start >= 0 ? start : ~start;
        for (var i = 0; i < points.Length && order.Count < Replicas.Count; i++)
        {
            var owner = owners[(start + i) % points.Length];
            if (!seen[owner])
            {
                seen[owner] = true;
                order.Add(Replicas[owner]);
            }
        }

        return order;
    }

    public static ulong Hash(string text) => BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
