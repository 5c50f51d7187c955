using System.Diagnostics;
using System.Text;
using Berth.Core.Identity;
using Berth.Oci;
using Berth.Server.Access;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;
using Berth.Core.Storage;

namespace Berth.Reliability.Tests.Fuzzing;

/// <summary>
/// Property-based fuzzing (FsCheck) of the parsers that read untrusted bytes: every input either parses or fails
/// with the documented handled exception, never anything else. Inputs are valid seeds mutated byte-wise plus
/// structure-aware generation; each target is bounded by an iteration count.
/// </summary>
public sealed class ParserFuzzTests(ITestOutputHelper output)
{
    private const int Iterations = 6000;

    private static readonly string[] ManifestSeeds =
    [
        new TestImage().ToManifestString(),
        """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":7,"annotations":{"a":"b"}}],"subject":null}""",
        """{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":1},"layers":[]}""",
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"artifactType\":\"application/x\",\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"sha512:" + new string('a', 128) + "\",\"size\":2},\"layers\":[],\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"size\":3}}",
        """{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}""",
    ];

    private static readonly string[] ContentTypes =
    [
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json", "application/json; charset=utf-8", "", "text/plain", ";;;", "application/vnd.docker.distribution.manifest.v1+prettyjws",
    ];

    private static readonly string[] JsonFragments =
    [
        "{", "}", "[", "]", ",", ":", "\"", "null", "true", "-1", "1e400", "9223372036854775808", "\"size\"", "\"digest\"", "\"mediaType\"",
        "\"schemaVersion\"", "2", "1.5", "\"sha256:\"", "\\u0000", "\"layers\"", "\"manifests\"", "\"annotations\"", "{\"a\":1}", "[[[[[[[[", "\uFFFF", "\uD800",
    ];

    private static readonly string[] ScopeSeeds =
    [
        "repository:samples/hello:pull", "repository:a/b:pull,push", "registry:catalog:*", "repository(plugin):x:pull",
        "repository:127.0.0.1:5000/x:pull", "repository:x:metadata_read,metadata_write,delete", "repository:*:*",
    ];

    [Fact]
    public void ManifestParser_EveryInputParsesOrThrowsOciException()
    {
        var gen = Gen.OneOf(MutatedGen(ManifestSeeds), SplicedGen(ManifestSeeds, JsonFragments)).Zip(Gen.Elements(ContentTypes));
        var count = Run("ManifestParser.Parse", gen, input =>
        {
            var (text, contentType) = input;
            try
            {
                var parsed = ManifestParser.Parse(Encoding.UTF8.GetBytes(text), contentType);
                Assert.True(MediaTypes.IsManifest(parsed.MediaType));
            }
            catch (OciException)
            {
            }
        });
        Assert.Equal(Iterations, count);
    }

    [Fact]
    public void ScopeParser_EveryInputParsesOrIsDropped()
    {
        var gen = Gen.OneOf(MutatedGen(ScopeSeeds), SplicedGen(ScopeSeeds, [":", ",", " ", "(", ")", "*", "/", "..", "\"", "\r\n", "%00", "repository", "registry"]));
        var count = Run("ScopeParser.Parse/TryParse", gen, text =>
        {
            foreach (var scope in ScopeParser.Parse(text, text + " " + text))
            {
                Assert.Contains(scope.Type, new[] { ScopeNames.Repository, ScopeNames.Registry });
                Assert.NotEmpty(scope.Name);
                Assert.NotEmpty(scope.Actions);
            }
            if (ScopeParser.TryParse(text, out var one)) Assert.True(text.Contains(one.Name, StringComparison.Ordinal));
        });
        Assert.Equal(Iterations, count);
    }

    [Fact]
    public void BasicAuthorizationParser_EveryInputParsesOrIsRefused()
    {
        var seeds = new[] { "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:pass")), "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(":")), "basic Zm9vOmJhcg==", "Bearer x.y.z" };
        var count = Run("RequestAuthentication.TryReadBasic", Gen.OneOf(MutatedGen(seeds), SplicedGen(seeds, ["=", "==", ":", " ", "\t", "Basic", "%3A", "\0"])), header =>
        {
            if (RequestAuthentication.TryReadBasic(header, out var username, out var password))
                Assert.DoesNotContain(':', username);
            else
                Assert.Equal(("", ""), (username, password));
        });
        Assert.Equal(Iterations, count);
    }

    [Fact]
    public void ChallengeHeader_EveryScopeItIsGivenIsQuotedIntoOneHeaderLine()
    {
        var scopeGen = Gen.OneOf(MutatedGen(ScopeSeeds), SplicedGen(ScopeSeeds, ["\"", ",", "=", "\\", " "]));
        var count = Run("Challenges.Header", scopeGen.Zip(Gen.Elements("myregistry.localhost", "a\"b", "127.0.0.1:5000", "")), input =>
        {
            var (scopeText, loginServer) = input;
            var request = new DefaultHttpContext().Request;
            request.Scheme = "http";
            request.Host = new HostString("127.0.0.1:5000");
            // The data plane builds challenges only from scopes it derived from a validated repository name.
            var scopes = ScopeParser.Parse(scopeText).Where(s => s.Type == ScopeNames.Registry || Names.IsValidRepository(s.Name)).ToList();
            var header = Challenges.Header(request, loginServer, scopes, insufficientScope: scopes.Count % 2 == 0);
            Assert.StartsWith("Bearer realm=\"http://127.0.0.1:5000/oauth2/token\"", header);
            Assert.DoesNotContain('\r', header);
            Assert.DoesNotContain('\n', header);
        });
        Assert.Equal(Iterations, count);
    }

    /// <summary>Runs <paramref name="property"/> on <see cref="Iterations"/> generated inputs (or until 40 s pass); returns how many ran.</summary>
    private int Run<T>(string target, Gen<T> gen, Action<T> property)
    {
        var count = 0;
        var clock = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(40);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Iterations).WithQuietOnSuccess(true), Prop.ForAll(gen.ToArbitrary(), (T input) =>
        {
            if (clock.Elapsed > deadline) return;
            count++;
            property(input);
        }));
        var line = $"fuzz {target}: {count} iterations in {clock.Elapsed.TotalSeconds:F1} s";
        output.WriteLine(line);
        Console.WriteLine(line);
        return count;
    }

    /// <summary>A seed with a few random byte-level edits: flips, deletions, duplications, truncation.</summary>
    private static Gen<string> MutatedGen(string[] seeds) =>
        from seed in Gen.Elements(seeds)
        from edits in Gen.ListOf(Gen.Choose(0, 4).Zip(Gen.Choose(0, 1 << 20)).Zip(Gen.Choose(0, 255), (e, v) => (e.Item1, e.Item2, v)), 4)
        select Mutate(seed, edits);

    /// <summary>A seed cut at random places with fragments spliced in: structure-aware damage.</summary>
    private static Gen<string> SplicedGen(string[] seeds, string[] fragments) =>
        from seed in Gen.Elements(seeds)
        from cuts in Gen.ListOf(Gen.Choose(0, 1 << 20).Zip(Gen.Elements(fragments)), 3)
        select cuts.Aggregate(seed, (s, cut) => s.Insert(cut.Item1 % (s.Length + 1), cut.Item2));

    private static string Mutate(string seed, IEnumerable<(int Kind, int Position, int Value)> edits)
    {
        var bytes = Encoding.UTF8.GetBytes(seed).ToList();
        foreach (var (kind, position, value) in edits)
        {
            if (bytes.Count == 0) break;
            var at = position % bytes.Count;
            switch (kind)
            {
                case 0: bytes[at] = (byte)value; break;
                case 1: bytes.RemoveAt(at); break;
                case 2: bytes.InsertRange(at, bytes.Skip(at).Take(value % 16 + 1).ToList()); break;
                case 3: bytes.RemoveRange(at, bytes.Count - at); break;
                default: bytes[at] ^= (byte)(1 << (value % 8)); break;
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}

internal static class TestImageText
{
    public static string ToManifestString(this TestImage image) => Encoding.UTF8.GetString(image.Manifest);
}
