using System.Collections.Concurrent;

namespace Berth.Core.PullCounts;

/// <summary>
/// Gathers a node's manifest pulls in memory, so that a pull costs no database write; <see cref="Take"/> hands what was
/// gathered to the flush. A pull by tag counts for the repository and the tag, a pull by digest for the repository only.
/// <para>
/// Exact under concurrency without a lock: each key's tally is an immutable value replaced by compare-and-swap
/// (<see cref="ConcurrentDictionary{TKey,TValue}.AddOrUpdate{TArg}"/>), and <see cref="Take"/> removes a key together
/// with its value, so a pull lands either in the taken tally or in a fresh one, never in neither.
/// </para>
/// </summary>
public sealed class PullCounter(IOptions<PullCountOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Registry, string Repository, string Tag), Tally> _pending = new();

    public bool Enabled { get; } = options.Value.Enabled;

    public void Record(RepositoryKey repository, string? tag, bool anonymous)
    {
        if (!Enabled) return;
        var tally = new Tally(anonymous ? 1 : 0, anonymous ? 0 : 1, time.GetUtcNow().ToUnixTimeMilliseconds());
        Add((repository.Registry, repository.Name, ""), tally);
        if (tag is not null) Add((repository.Registry, repository.Name, tag), tally);
    }

    /// <summary>Everything gathered since the last take, grouped by repository; the counter starts again from zero.</summary>
    public IReadOnlyList<IReadOnlyList<PullCountDelta>> Take()
    {
        var taken = new List<PullCountDelta>();
        foreach (var key in _pending.Keys)
        {
            if (_pending.TryRemove(key, out var tally))
                taken.Add(new PullCountDelta(new RepositoryKey(key.Registry, key.Repository), key.Tag.Length == 0 ? null : key.Tag,
                    tally.Anonymous, tally.Authenticated, DateTimeOffset.FromUnixTimeMilliseconds(tally.LastPulled)));
        }
        return [.. taken.GroupBy(d => d.Repository).Select(group => (IReadOnlyList<PullCountDelta>)[.. group])];
    }

    /// <summary>Puts back deltas a flush could not write, to go with the next one.</summary>
    public void Restore(IEnumerable<PullCountDelta> deltas)
    {
        foreach (var delta in deltas)
            Add((delta.Repository.Registry, delta.Repository.Name, delta.Tag ?? ""),
                new Tally(delta.Anonymous, delta.Authenticated, delta.LastPulled.ToUnixTimeMilliseconds()));
    }

    private void Add((string, string, string) key, Tally tally) =>
        _pending.AddOrUpdate(key, static (_, added) => added, static (_, old, added) => old.Plus(added), tally);

    private readonly record struct Tally(long Anonymous, long Authenticated, long LastPulled)
    {
        public Tally Plus(Tally other) => new(Anonymous + other.Anonymous, Authenticated + other.Authenticated, Math.Max(LastPulled, other.LastPulled));
    }
}
