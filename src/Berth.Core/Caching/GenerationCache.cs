using System.Collections.Concurrent;

namespace Berth.Core.Caching;

/// <summary>
/// A bounded map from a key to a value read in some generation. Entries from an older generation are misses; when the
/// map is full it is simply emptied (reads are cheap to repeat, and a full map mostly holds stale generations).
/// </summary>
internal sealed class GenerationCache<TKey, TValue>(int capacity) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, (long Generation, TValue Value)> _entries = new();

    public bool TryGet(TKey key, long generation, out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.Generation == generation)
        {
            value = entry.Value;
            return true;
        }
        value = default!;
        return false;
    }

    public void Set(TKey key, long generation, TValue value)
    {
        if (_entries.Count >= capacity) _entries.Clear();
        _entries[key] = (generation, value);
    }

    /// <summary>
    /// Reads through the cache: <paramref name="load"/> runs on a miss and its result is kept for the generation, which
    /// is taken before the load starts (so a change during the load leaves an entry that is already out of date).
    /// </summary>
    public async Task<TValue> GetOrLoadAsync(TKey key, ValueTask<long> currentGeneration, Func<Task<TValue>> load)
    {
        var generation = await currentGeneration;
        if (TryGet(key, generation, out var value)) return value;
        value = await load();
        Set(key, generation, value);
        return value;
    }
}
