using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Berth.Bench;

/// <summary>
/// The measurements of one benchmark invocation: set-up once (seed images, populate tags and repositories), then
/// <see cref="Config.Runs"/> identical runs (each yields one value per metric key), then the 4 GiB memory test once.
/// Keys start with "b." (Berth), "d." (distribution), "n." (nginx) or "p." (physical limits).
/// </summary>
internal sealed class Bench(Config config)
{
    private const string ManifestRepo = "bench/manifest";
    private const string ManifestTag = "latest";
    private const string TagsRepo = "bench/tags";
    private const string SourceRepo = "bench/source";
    private const string BlobRepo = "bench/blobs";
    private const string SmallRepo = "bench/small";

    private readonly Registry _berth = new("berth", config.Berth.Url, config.Berth.Pid,
        (config.Berth.Username, config.Berth.Password), config.Berth.Service);
    private readonly Registry _distribution = new("distribution", config.Distribution.Url, config.Distribution.Pid, null, null);
    private readonly Registry? _scaleOut = config.ScaleOut is { } scaleOut
        ? new("scale-out", scaleOut.Url, 0, (scaleOut.Username, scaleOut.Password), scaleOut.Service)
        : null;
    private readonly StorageLimit? _storageLimit = config.ScaleOut is { StorageConnectionString.Length: > 0 } withStorage
        ? new StorageLimit(withStorage.StorageConnectionString)
        : null;
    private readonly LoadGenerator _load = new(config.Wrk, config.Scratch);
    private readonly Sizes _sizes = config.Sizes;
    private long _nonce = DateTime.UtcNow.Ticks;

    private byte[] _manifest = [];
    private string _configDigest = "", _layerDigest = "";
    private byte[] _configBlob = [], _layerBlob = [];
    private string? _anonymousHeader; // null: anonymous not available; "" : no header needed; else the Authorization value

    public List<Dictionary<string, double>> Runs { get; } = [];
    public Dictionary<string, double> Once { get; } = [];
    public List<string> Notes { get; } = [];

    private Registry[] Registries => [_berth, _distribution];
    private static string Key(Registry registry) => registry.Name switch { "berth" => "b", "scale-out" => "s", _ => "d" };

    public async Task RunAsync()
    {
        await SeedAsync();
        await ResolveAnonymousAsync();
        await PopulateAsync();
        for (var run = 1; run <= config.Runs; run++)
        {
            Log($"run {run}/{config.Runs}");
            var values = new Dictionary<string, double>();
            Runs.Add(values);
            PhysicalLimits(values);
            await BlobsAsync(values);
            ManifestLoad(values);
            TokenLoad(values);
            await SmallBlobsAsync(values);
            await ListingsAsync(values);
        }
        await BigBlobAsync();
        foreach (var registry in Registries)
        {
            Once[$"{Key(registry)}.rss.runpeak"] = registry.Memory?.RunPeakMiB ?? double.NaN;
        }
    }

    public static void Log(string message) => Console.Error.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {message}");

    // ---- set-up -----------------------------------------------------------------------------------------------------

    /// <summary>One small image (config + 4 KiB layer + OCI manifest) pushed to both registries; its manifest is the file nginx serves.</summary>
    private async Task SeedAsync()
    {
        _configBlob = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{}}");
        _layerBlob = new byte[4096];
        new Random(7).NextBytes(_layerBlob);
        _configDigest = Sha(_configBlob);
        _layerDigest = Sha(_layerBlob);
        _manifest = Registry.Json(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = Registry.ManifestMediaType,
            ["config"] = new Dictionary<string, object> { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = _configDigest, ["size"] = _configBlob.Length },
            ["layers"] = new[] { new Dictionary<string, object> { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar", ["digest"] = _layerDigest, ["size"] = _layerBlob.Length } },
            ["annotations"] = new Dictionary<string, string> { ["org.opencontainers.image.title"] = "berth benchmark image" },
        });
        foreach (var registry in Registries)
        {
            foreach (var repo in new[] { ManifestRepo, TagsRepo, SourceRepo })
            {
                await registry.PushSmallAsync(repo, _configBlob, _configDigest);
                await registry.PushSmallAsync(repo, _layerBlob, _layerDigest);
                await registry.PutManifestAsync(repo, ManifestTag, _manifest);
            }
        }
        if (config.Nginx is { } nginx) await File.WriteAllBytesAsync(Path.Combine(nginx.Root, "manifest.json"), _manifest);
        Log($"seeded both registries; manifest is {_manifest.Length} bytes");
    }

    /// <summary>How an anonymous client reads Berth: with no header if Berth allows it, else with an anonymous token (what docker does).</summary>
    private async Task ResolveAnonymousAsync()
    {
        if (config.Berth.Anonymous != "on")
        {
            Notes.Add($"Berth anonymous rows not measured: {config.Berth.Anonymous}");
            return;
        }
        using (var probe = new HttpRequestMessage(HttpMethod.Get, $"v2/{ManifestRepo}/manifests/{ManifestTag}"))
        {
            probe.Headers.TryAddWithoutValidation("Accept", Registry.ManifestAccept);
            using var response = await _berth.Http.SendAsync(probe);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                _anonymousHeader = "";
                Notes.Add("Berth anonymous rows: plain GETs without any Authorization header.");
                return;
            }
        }
        try
        {
            var token = await _berth.FetchTokenAsync([Registry.Pull(ManifestRepo)], anonymous: true);
            _anonymousHeader = "Bearer " + token;
            Notes.Add("Berth anonymous rows: an anonymous token from /oauth2/token (no credentials), as docker obtains one; plain GETs without a token get 401.");
        }
        catch (BenchException error)
        {
            Notes.Add($"Berth anonymous rows not measured: anonymous token refused although anonymous pull was switched on ({error.Message}).");
        }
    }

    /// <summary>
    /// A repository with many tags (one manifest, tagged N times) and many repositories (mount the seed blobs, put the
    /// manifest). Distribution first, within a time budget; Berth then gets exactly as many, so both lists are equal.
    /// </summary>
    private async Task PopulateAsync()
    {
        var budget = TimeSpan.FromSeconds(_sizes.PopulateBudgetSeconds);
        var tags = _sizes.Tags;
        Log($"populating {tags:N0} tags and {_sizes.Repositories:N0} repositories (distribution first; at most {budget.TotalSeconds:F0} s each)");
        foreach (var registry in new[] { _distribution, _berth })
        {
            var scopes = new[] { Registry.Push(TagsRepo) };
            var (done, seconds) = await Parallel2.RunAsync(tags, _sizes.PopulateParallelism, budget,
                i => registry.PutManifestAsync(TagsRepo, $"t{i:D6}", _manifest, scopes));
            Log($"{registry.Name}: {done} tags in {seconds:F1} s ({done / seconds:F0}/s)");
            Once[$"{Key(registry)}.populate.tags.rate"] = done / seconds;
            if (done < tags)
            {
                Notes.Add($"Tags: {registry.Name} reached {done:N0} of {tags:N0} tags within the {budget.TotalSeconds:F0} s budget; both registries were measured with {done:N0} (+1) tags.");
                tags = done;
            }
        }
        Once["tags.count"] = tags + 1;

        var repos = _sizes.Repositories;
        foreach (var registry in new[] { _distribution, _berth })
        {
            var (done, seconds) = await Parallel2.RunAsync(repos, _sizes.PopulateParallelism, budget, async i =>
            {
                var repo = $"bench/r{i:D6}";
                // Berth: one token per batch of 50 repositories keeps token requests (and their password checks) few.
                var batch = i / 50;
                var scopes = new[] { Registry.Pull(SourceRepo) }.Concat(Enumerable.Range(batch * 50, 50).Select(j => Registry.Push($"bench/r{j:D6}"))).ToArray();
                foreach (var (digest, content) in new[] { (_configDigest, _configBlob), (_layerDigest, _layerBlob) })
                {
                    if (!await registry.MountAsync(repo, SourceRepo, digest, scopes)) await registry.PushSmallAsync(repo, content, digest);
                }
                await registry.PutManifestAsync(repo, ManifestTag, _manifest, scopes);
            });
            Log($"{registry.Name}: {done} repositories in {seconds:F1} s ({done / seconds:F0}/s)");
            if (done < repos)
            {
                Notes.Add($"Catalog: {registry.Name} reached {done:N0} of {repos:N0} repositories within the {budget.TotalSeconds:F0} s budget; both registries were measured with {done:N0} (+ the bench's own) repositories.");
                repos = done;
            }
        }
        Once["repos.count"] = repos;
        _berth.ForgetTokens();
    }

    // ---- the measurements of one run --------------------------------------------------------------------------------

    private void PhysicalLimits(Dictionary<string, double> values)
    {
        values["p.sha256"] = Physical.Sha256MBps(_sizes.PhysicalSeconds);
        var file = Path.Combine(config.Scratch, "disk-test.bin");
        values["p.disk"] = Physical.DiskWriteMBps(file, _sizes.DiskMiB);
        values["p.pagecache"] = Physical.PageCacheReadMBps(file);
        var duration = TimeSpan.FromSeconds(_sizes.PhysicalSeconds);
        values["p.loopback.write"] = Physical.LoopbackTcpMBps(duration);
        values["p.loopback.sendfile"] = Physical.LoopbackTcpMBps(duration, file);
        values["p.loopback"] = Math.Max(values["p.loopback.write"], values["p.loopback.sendfile"]);
        File.Delete(file);
        Log($"limits: sha256 {values["p.sha256"]:F0} MB/s, disk {values["p.disk"]:F0} MB/s, page cache {values["p.pagecache"]:F0} MB/s, " +
            $"loopback {values["p.loopback.write"]:F0} MB/s (write) / {values["p.loopback.sendfile"]:F0} MB/s (sendfile)");
    }

    private async Task BlobsAsync(Dictionary<string, double> values)
    {
        var size = (long)_sizes.BlobMiB << 20;
        var monolithic = new PatternBlob(size, Interlocked.Increment(ref _nonce));
        var chunked = new PatternBlob(size, Interlocked.Increment(ref _nonce));
        var buffer = new byte[1 << 20];
        foreach (var registry in _scaleOut is null ? Registries : [.. Registries, _scaleOut])
        {
            var k = Key(registry);
            await registry.AuthAsync(Registry.Push(BlobRepo));
            await registry.AuthAsync(Registry.Pull(BlobRepo));
            WarmUpPageCache(size);
            values[$"{k}.push.mono"] = await Rate(size, () => registry.PushMonolithicAsync(BlobRepo, monolithic));
            WarmUpPageCache(size);
            values[$"{k}.push.chunked"] = await Rate(size, () => registry.PushChunkedAsync(BlobRepo, chunked, (long)_sizes.ChunkMiB << 20));
            values[$"{k}.pull"] = await Rate(size, async () =>
            {
                var read = await registry.PullAsync(BlobRepo, monolithic.Digest, buffer);
                if (read != size) throw new BenchException($"{registry.Name}: pulled {read} bytes of {size}");
            });
            Log($"{registry.Name}: push {values[$"{k}.push.mono"]:F0} MB/s, chunked {values[$"{k}.push.chunked"]:F0} MB/s, pull {values[$"{k}.pull"]:F0} MB/s");
            if (registry == _distribution) await NginxPullAsync(values, monolithic, buffer);
            if (registry == _scaleOut)
            {
                await StorageLimitAsync(values, monolithic, buffer);
                continue; // the scale-out set-up is measured for throughput only
            }
            var heads = new List<double>();
            for (var i = 0; i < _sizes.Heads; i++) heads.Add(await registry.HeadMillisecondsAsync(BlobRepo, monolithic.Digest));
            values[$"{k}.head.p50"] = Stats.Percentile(heads, 50);
            values[$"{k}.head.p99"] = Stats.Percentile(heads, 99);
            Log($"{registry.Name}: HEAD p50 {values[$"{k}.head.p50"]:F2} ms");
        }
    }

    /// <summary>
    /// The same bytes as a static file from nginx, read by the same client: what an HTTP server reaches on this machine
    /// for a blob download. Served with sendfile(2) and with read/write copies; "n.pull" is the better of the two.
    /// </summary>
    private async Task NginxPullAsync(Dictionary<string, double> values, PatternBlob blob, byte[] buffer)
    {
        if (config.Nginx is not { } nginx) return;
        var file = Path.Combine(nginx.Root, "blob.bin");
        await using (var stream = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            await blob.WriteAsync(stream, 0, blob.Size);
        using var client = Registry.NewClient(new Uri(nginx.Url.TrimEnd('/') + "/"));
        foreach (var (key, path) in new[] { ("n.pull.sendfile", "blob.bin"), ("n.pull.copy", "copy/blob.bin") })
        {
            await ReadAllAsync(client, path, buffer); // the first read brings the file into the page cache, as a push does for the registries
            values[key] = await Rate(blob.Size, async () =>
            {
                var read = await ReadAllAsync(client, path, buffer);
                if (read != blob.Size) throw new BenchException($"nginx: read {read} bytes of {blob.Size} from {path}");
            });
        }
        values["n.pull"] = Math.Max(values["n.pull.sendfile"], values["n.pull.copy"]);
        File.Delete(file);
        Log($"nginx static blob: {values["n.pull.sendfile"]:F0} MB/s with sendfile, {values["n.pull.copy"]:F0} MB/s without");
    }

    private static async Task<long> ReadAllAsync(HttpClient client, string path, byte[] buffer)
    {
        using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var stream = await response.Content.ReadAsStreamAsync();
        return await Streams.DrainAsync(stream, buffer);
    }

    /// <summary>The scale-out set-up's storage service alone, with the same client machine and blob: keys "a.push" and "a.pull".</summary>
    private async Task StorageLimitAsync(Dictionary<string, double> values, PatternBlob blob, byte[] buffer)
    {
        if (_storageLimit is null) return;
        var size = blob.Size;
        Azure.Storage.Blobs.Specialized.BlockBlobClient? stored = null;
        values["a.push"] = await Rate(size, async () => stored = await _storageLimit.PushAsync(blob));
        values["a.pull"] = await Rate(size, async () =>
        {
            var read = await StorageLimit.PullAsync(stored!, buffer);
            if (read != size) throw new BenchException($"storage alone: read {read} bytes of {size}");
        });
        await _storageLimit.DeleteAsync(stored!);
        Log($"storage alone: push {values["a.push"]:F0} MB/s, pull {values["a.pull"]:F0} MB/s");
    }

    /// <summary>
    /// Writes a scratch file of <paramref name="bytes"/> through the page cache (with an fsync) and deletes it, just
    /// before a timed push, so that every push, Berth's and distribution's, starts with the same amount of page-cache
    /// memory freed a moment ago. On the development machine (a virtual machine) buffered writes into memory the guest
    /// has not used lately run at 190–250 MB/s, and into pages just freed at 450–640 MB/s, while O_DIRECT writes,
    /// which bypass the cache, run at 600–950 MB/s either way. The cost is in the memory, not the disk. Every pushed
    /// blob stays cached, so without this each push would depend on what the rows before it left behind.
    /// </summary>
    private void WarmUpPageCache(long bytes)
    {
        var file = Path.Combine(config.Scratch, "page-cache-warm-up.bin");
        var (exit, _, stderr) = Shell.Run("dd", "if=/dev/zero", $"of={file}", "bs=1M", $"count={bytes >> 20}", "conv=fsync");
        File.Delete(file);
        if (exit != 0) throw new BenchException($"dd write failed: {stderr}");
    }

    private static async Task<double> Rate(long bytes, Func<Task> action)
    {
        var clock = Stopwatch.StartNew();
        await action();
        return bytes / clock.Elapsed.TotalSeconds / 1e6;
    }

    private void ManifestLoad(Dictionary<string, double> values)
    {
        var duration = TimeSpan.FromSeconds(_sizes.LoadSeconds);
        var accept = new Dictionary<string, string> { ["Accept"] = Registry.ManifestAccept };
        var bearer = "Bearer " + _berth.FetchTokenAsync([Registry.Pull(ManifestRepo)], anonymous: false).GetAwaiter().GetResult();
        var path = $"v2/{ManifestRepo}/manifests/{ManifestTag}";
        foreach (var connections in _sizes.Connections)
        {
            var measureRss = connections == _sizes.Connections.Max();
            if (config.Nginx is { } nginx)
            {
                Record(values, $"n.{connections}", _load.Run(new Uri(new Uri(nginx.Url.TrimEnd('/') + "/"), "manifest.json"), accept, connections, duration));
            }
            if (measureRss) _berth.Memory?.ResetPeak();
            if (_anonymousHeader is not null)
            {
                var headers = new Dictionary<string, string>(accept);
                if (_anonymousHeader.Length > 0) headers["Authorization"] = _anonymousHeader;
                Record(values, $"b.anon.{connections}", _load.Run(new Uri(_berth.BaseUri, path), headers, connections, duration));
            }
            Record(values, $"b.bearer.{connections}", _load.Run(new Uri(_berth.BaseUri, path),
                new Dictionary<string, string>(accept) { ["Authorization"] = bearer }, connections, duration));
            if (measureRss) values["b.rss.load"] = _berth.Memory?.HwmMiB ?? double.NaN;
            if (measureRss) _distribution.Memory?.ResetPeak();
            Record(values, $"d.get.{connections}", _load.Run(new Uri(_distribution.BaseUri, path), accept, connections, duration));
            if (measureRss) values["d.rss.load"] = _distribution.Memory?.HwmMiB ?? double.NaN;
        }
    }

    private void Record(Dictionary<string, double> values, string key, LoadResult result)
    {
        if (!result.Valid)
        {
            Notes.Add($"{key}: {result.Errors} of {result.Requests} responses were errors (non-2xx or socket errors); the row is left out.");
            result = LoadResult.None;
        }
        values[$"{key}.rps"] = result.Rps;
        values[$"{key}.p50"] = result.P50Ms;
        values[$"{key}.p99"] = result.P99Ms;
        Log($"{key}: {result.Rps:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms ({result.Tool})");
    }

    private void TokenLoad(Dictionary<string, double> values)
    {
        var url = new Uri(_berth.BaseUri, _berth.TokenPath([Registry.Push(ManifestRepo)]));
        var headers = new Dictionary<string, string> { ["Authorization"] = Headers.Basic(config.Berth.Username, config.Berth.Password).ToString() };
        Record(values, "b.token", _load.Run(url, headers, _sizes.TokenConnections, TimeSpan.FromSeconds(_sizes.LoadSeconds)));
    }

    private async Task SmallBlobsAsync(Dictionary<string, double> values)
    {
        var blobs = Enumerable.Range(0, _sizes.SmallBlobs).Select(_ =>
        {
            var content = new byte[_sizes.SmallBlobKiB * 1024];
            Random.Shared.NextBytes(content);
            return (content, digest: Sha(content));
        }).ToArray();
        foreach (var registry in Registries)
        {
            await registry.AuthAsync(Registry.Push(SmallRepo));
            var (done, seconds) = await Parallel2.RunAsync(blobs.Length, _sizes.SmallParallelism, TimeSpan.FromMinutes(10),
                i => registry.PushSmallAsync(SmallRepo, blobs[i].content, blobs[i].digest));
            values[$"{Key(registry)}.small"] = done / seconds;
            Log($"{registry.Name}: {done} small blobs at {done / seconds:F0}/s");
        }
    }

    private async Task ListingsAsync(Dictionary<string, double> values)
    {
        foreach (var registry in Registries)
        {
            var k = Key(registry);
            var budget = TimeSpan.FromSeconds(_sizes.WalkBudgetSeconds);
            var tags = await registry.WalkAsync($"v2/{TagsRepo}/tags/list?n={_sizes.PageSize}", [$"repository:{TagsRepo}:metadata_read"], "tags", budget);
            values[$"{k}.tags.p50"] = Stats.Percentile(tags.PageMs, 50);
            values[$"{k}.tags.total"] = tags.Complete ? tags.TotalMs : double.NaN;
            if (!tags.Complete) Notes.Add($"Tags list: {registry.Name} listed {tags.Items:N0} tags in {tags.PageMs.Count} pages within the {budget.TotalSeconds:F0} s walk budget; its per-page p50 covers those pages, its all-pages time is n/a.");
            values[$"{k}.tags.pages"] = tags.PageMs.Count;
            values[$"{k}.tags.items"] = tags.Items;
            var catalog = await registry.WalkAsync($"v2/_catalog?n={_sizes.PageSize}", ["registry:catalog:*"], "repositories", budget);
            values[$"{k}.catalog.p50"] = Stats.Percentile(catalog.PageMs, 50);
            values[$"{k}.catalog.total"] = catalog.Complete ? catalog.TotalMs : double.NaN;
            if (!catalog.Complete) Notes.Add($"Catalog: {registry.Name} listed {catalog.Items:N0} repositories in {catalog.PageMs.Count} pages within the {budget.TotalSeconds:F0} s walk budget; its per-page p50 covers those pages, its all-pages time is n/a.");
            values[$"{k}.catalog.pages"] = catalog.PageMs.Count;
            values[$"{k}.catalog.items"] = catalog.Items;
            Log($"{registry.Name}: tags {tags.Items} in {tags.PageMs.Count} pages (p50 {values[$"{k}.tags.p50"]:F1} ms), catalog {catalog.Items} in {catalog.PageMs.Count} pages (p50 {values[$"{k}.catalog.p50"]:F1} ms)");
        }
    }

    /// <summary>RSS growth while one large blob is pushed (monolithic) and pulled: the peak (VmHWM, reset first) minus the RSS before.</summary>
    private async Task BigBlobAsync()
    {
        var size = (long)_sizes.BigBlobMiB << 20;
        Log($"hashing the {_sizes.BigBlobMiB} MiB blob");
        var blob = new PatternBlob(size, Interlocked.Increment(ref _nonce));
        var buffer = new byte[1 << 20];
        foreach (var registry in Registries)
        {
            var k = Key(registry);
            await registry.AuthAsync(Registry.Push(BlobRepo));
            await registry.AuthAsync(Registry.Pull(BlobRepo));
            if (registry.Memory is not { } memory) continue;
            memory.ResetPeak();
            var before = memory.RssMiB;
            Once[$"{k}.big.push.rate"] = await Rate(size, () => registry.PushMonolithicAsync(BlobRepo, blob));
            Once[$"{k}.big.push.growth"] = memory.HwmMiB - before;
            memory.ResetPeak();
            before = memory.RssMiB;
            Once[$"{k}.big.pull.rate"] = await Rate(size, () => registry.PullAsync(BlobRepo, blob.Digest, buffer));
            Once[$"{k}.big.pull.growth"] = memory.HwmMiB - before;
            Log($"{registry.Name}: {_sizes.BigBlobMiB} MiB push grew RSS by {Once[$"{k}.big.push.growth"]:F1} MiB, pull by {Once[$"{k}.big.pull.growth"]:F1} MiB");
        }
    }

    private static string Sha(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
}
