namespace InferenceHost.ScaleSim;

/// <summary>One replica's device slots: <c>capacity</c> adapters, least recently used evicted first (the engine's rule for unpinned slots).</summary>
public sealed class SlotCache(int capacity)
{
    private readonly LinkedList<string> order = new(); // most recent first
    private readonly Dictionary<string, LinkedListNode<string>> resident = new(StringComparer.Ordinal);

    public int Capacity { get; } = capacity >= 1 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    public IReadOnlyCollection<string> Resident => resident.Keys;

    /// <summary>Uses <paramref name="adapter"/>: true when it was resident (a hit), false when it had to be loaded (a miss, evicting the LRU one when full).</summary>
    public bool Use(string adapter)
    {
        if (resident.TryGetValue(adapter, out var node))
        {
            order.Remove(node);
            order.AddFirst(node);
            return true;
        }

        if (resident.Count == Capacity)
        {
            resident.Remove(order.Last!.Value);
            order.RemoveLast();
        }

        resident[adapter] = order.AddFirst(adapter);
        return false;
    }
}
