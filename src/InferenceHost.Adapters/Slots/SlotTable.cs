namespace InferenceHost.Adapters.Slots;

/// <summary>One device slot as the table sees it.</summary>
public sealed record SlotState(int Index, string? Adapter, int Pins, long LastUsed, bool Unloading)
{
    public bool IsFree => Adapter is null;
}

/// <summary>
/// Which adapter sits in which device slot (vLLM's LoRA manager, without the tensors): LRU eviction
/// of unpinned slots, pinning while in use, and unload that waits for the last user. Not thread-safe:
/// the engine loop owns it.
/// </summary>
public sealed class SlotTable
{
    private readonly SlotState[] slots;
    private long clock;

    public SlotTable(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        slots = Enumerable.Range(0, capacity).Select(i => new SlotState(i, null, 0, 0, false)).ToArray();
    }

    public int Capacity => slots.Length;

    public IReadOnlyList<SlotState> Snapshot() => slots.ToArray();

    public int? Find(string adapter) => Array.FindIndex(slots, s => s.Adapter == adapter && !s.Unloading) is var i and >= 0 ? i : null;

    /// <summary>
    /// Pins <paramref name="adapter"/> in a slot, making it resident first if needed (evicting the least
    /// recently used unpinned slot). <paramref name="load"/> copies it into the chosen slot. Returns the
    /// slot, or null when every slot is pinned (the caller waits and tries again).
    /// </summary>
    public int? Acquire(string adapter, Action<int> load, out bool hit)
    {
        clock++;
        hit = false;
        if (Find(adapter) is { } resident)
        {
            hit = true;
            slots[resident] = slots[resident] with { Pins = slots[resident].Pins + 1, LastUsed = clock };
            return resident;
        }

        var victim = slots.Where(s => s.IsFree).Select(s => (int?)s.Index).FirstOrDefault()
            ?? slots.Where(s => s.Pins == 0).OrderBy(s => s.LastUsed).Select(s => (int?)s.Index).FirstOrDefault();
        if (victim is not { } v)
        {
            return null;
        }

        load(v);
        slots[v] = new SlotState(v, adapter, 1, clock, false);
        return v;
    }

    /// <summary>Ends one use of <paramref name="slot"/>; an unloading slot is freed with its last user.</summary>
    public void Release(int slot)
    {
        var s = slots[slot];
        if (s.Pins < 1)
        {
            throw new InvalidOperationException($"slot {slot} released more often than acquired");
        }

        slots[slot] = s.Pins == 1 && s.Unloading ? new SlotState(slot, null, 0, s.LastUsed, false) : s with { Pins = s.Pins - 1 };
    }

    /// <summary>Removes <paramref name="adapter"/>: its slot is freed now if unused, else when its last user releases it.</summary>
    public void Unload(string adapter)
    {
        if (Find(adapter) is not { } i)
        {
            return;
        }

        slots[i] = slots[i].Pins == 0 ? new SlotState(i, null, 0, slots[i].LastUsed, false) : slots[i] with { Unloading = true };
    }
}
