using InferenceHost.Adapters.Slots;

namespace InferenceHost.Adapters.Tests;

/// <summary>The slot table as a state machine: the whole table is asserted after every operation.</summary>
public sealed class SlotTableTests
{
    private readonly List<int> loads = [];

    [Fact]
    public void Fills_free_slots_then_evicts_least_recently_used_unpinned()
    {
        var t = new SlotTable(2);
        Assert.Equal(0, Acquire(t, "a"));
        AssertTable(t, ("a", 1), (null, 0));
        Assert.Equal(1, Acquire(t, "b"));
        AssertTable(t, ("a", 1), ("b", 1));
        t.Release(0);
        t.Release(1);
        AssertTable(t, ("a", 0), ("b", 0));

        Assert.Equal(0, Acquire(t, "a", expectHit: true)); // a is now the most recently used
        t.Release(0);
        Assert.Equal(1, Acquire(t, "c")); // evicts b, the least recently used
        AssertTable(t, ("a", 0), ("c", 1));
        Assert.Equal([0, 1, 1], loads);
    }

    [Fact]
    public void Pinned_slots_are_never_evicted_and_a_full_table_says_wait()
    {
        var t = new SlotTable(2);
        Acquire(t, "a");
        Acquire(t, "b");
        Assert.Null(t.Acquire("c", loads.Add, out _));
        AssertTable(t, ("a", 1), ("b", 1));
        Assert.Equal(0, Acquire(t, "a", expectHit: true));
        AssertTable(t, ("a", 2), ("b", 1));
        t.Release(1);
        Assert.Equal(1, Acquire(t, "c"));
        AssertTable(t, ("a", 2), ("c", 1));
    }

    [Fact]
    public void Unload_while_in_use_waits_for_the_last_user()
    {
        var t = new SlotTable(2);
        Acquire(t, "a");
        Acquire(t, "a", expectHit: true);
        t.Unload("a");
        var s = t.Snapshot()[0];
        Assert.Equal(("a", 2, true), (s.Adapter, s.Pins, s.Unloading));
        Assert.Null(t.Find("a")); // new requests no longer find it
        t.Release(0);
        Assert.Equal(("a", 1, true), (t.Snapshot()[0].Adapter, t.Snapshot()[0].Pins, t.Snapshot()[0].Unloading));
        t.Release(0);
        AssertTable(t, (null, 0), (null, 0));
    }

    [Fact]
    public void Unload_of_an_idle_adapter_frees_its_slot_now_and_reload_loads_again()
    {
        var t = new SlotTable(1);
        Acquire(t, "a");
        t.Release(0);
        t.Unload("a");
        AssertTable(t, (null, 0));
        Acquire(t, "a");
        Assert.Equal([0, 0], loads);
    }

    [Fact]
    public void Releasing_more_than_acquired_is_an_error()
    {
        var t = new SlotTable(1);
        Acquire(t, "a");
        t.Release(0);
        Assert.Throws<InvalidOperationException>(() => t.Release(0));
    }

    private int Acquire(SlotTable t, string name, bool expectHit = false)
    {
        var slot = t.Acquire(name, loads.Add, out var hit);
        Assert.Equal(expectHit, hit);
        return slot!.Value;
    }

    private static void AssertTable(SlotTable t, params (string? Adapter, int Pins)[] expected) =>
        Assert.Equal(expected, t.Snapshot().Select(s => (s.Adapter, s.Pins)).ToArray());
}
