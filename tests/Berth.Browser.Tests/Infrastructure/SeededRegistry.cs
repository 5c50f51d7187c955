using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Berth.Browser.Tests.Infrastructure;

/// <summary>
/// A real Berth server in its own process, set up the way a person publishes content, for every browser test:
/// anonymous pull limited to <c>public/*</c> and a repository-scoped token (both through the real <c>berth acr</c> CLI),
/// and content pushed over /v2 with the admin credentials:
/// <list type="bullet">
/// <item><c>public/webapp:1.0</c>, a linux/amd64 + linux/arm64 index carrying the OCI annotations, with a cosign-style
/// signature and an SPDX SBOM referring to it (each an artifact manifest with <c>subject</c>);</item>
/// <item><c>public/webapp:0.9</c>, an older single-platform image with annotations of its own;</item>
/// <item><c>public/hostile:1</c>, whose annotations are markup and script;</item>
/// <item><c>team/app:1</c> (readable by the scoped token) and <c>team/secret:1</c> (admin only), both private.</item>
/// </list>
/// </summary>
public sealed class SeededRegistry : IAsyncLifetime, IRegistryEndpoint
{
    public const string PublicPattern = "public/*";
    public const string WebApp = "public/webapp";
    public const string Hostile = "public/hostile";
    public const string TeamApp = "team/app";
    public const string TeamSecret = "team/secret";
    public const string TokenName = "webreader";

    public const string Title = "Berth sample web app";
    public const string Description = "A small multi-platform web server image, signed and with an SBOM.";

    /// <summary>Markup, a script and an event handler in annotation values: the page must show them as text.</summary>
    public const string HostileText = "<script>alert('annotation')</script><img src=/hostile-image onerror=alert(1)>\"'&amp;";

    public const string CosignSignatureType = "application/vnd.dev.cosign.artifact.sig.v1+json";
    public const string SpdxType = "application/spdx+json";

    /// <summary>An environment value that must never appear on a page (env names only).</summary>
    public const string SecretEnvironmentValue = "do-not-show-this-value-7f3a";

    private readonly TempDirectory _data = new("browser-data");
    private readonly TempDirectory _cli = new("browser-cli");
    private BerthProcess? _server;

    public BerthProcess Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public string Host => Server.Address;

    public string? Credentials => Server.Credentials;

    /// <summary>The server's origin, e.g. <c>http://127.0.0.1:41234</c>, which every request of the page must share.</summary>
    public string Origin => Server.BaseAddress.GetLeftPart(UriPartial.Authority);

    public string AdminUser => Credentials!.Split(':', 2)[0];
    public string AdminPassword => Credentials!.Split(':', 2)[1];

    /// <summary>The registry's login server as ARM reports it, which the pull commands name.</summary>
    public string LoginServer { get; private set; } = "";

    public string TokenPassword { get; private set; } = "";

    public string IndexDigest { get; private set; } = "";
    public IReadOnlyList<string> PlatformDigests { get; private set; } = [];
    public string OldImageDigest { get; private set; } = "";
    public string SignatureDigest { get; private set; } = "";
    public string SbomDigest { get; private set; } = "";
    public string HostileDigest { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _server = new BerthProcess(_data.Path);
        await _server.StartAsync();

        await BerthCliAsync("acr", "update", "-n", "myregistry", "--anonymous-pull-enabled", "true",
            "--anonymous-pull-repositories", PublicPattern, "-o", "none");
        LoginServer = (await BerthCliAsync("acr", "show", "-n", "myregistry", "--query", "loginServer", "-o", "tsv")).Trim();
        TokenPassword = (await BerthCliAsync("acr", "token", "create", "-n", TokenName, "-r", "myregistry",
            "--repository", TeamApp, "content/read", "--query", "credentials.passwords[0].value", "-o", "tsv")).Trim();
        Assert.False(string.IsNullOrEmpty(LoginServer), "berth acr show gave no loginServer");
        Assert.True(TokenPassword.Length >= 20, "berth acr token create gave no password");

        using var client = Server.CreateClient(TimeSpan.FromMinutes(1));
        // Pushed oldest first: the repository page lists tags newest first.
        OldImageDigest = await PushImageAsync(client, WebApp, "0.9", "amd64", new()
        {
            ["org.opencontainers.image.title"] = Title,
            ["org.opencontainers.image.version"] = "0.9.0",
        });
        await PushWebAppIndexAsync(client);
        HostileDigest = await PushImageAsync(client, Hostile, "1", "amd64", new()
        {
            ["org.opencontainers.image.title"] = "hostile",
            ["org.opencontainers.image.description"] = HostileText,
            ["org.example.note"] = HostileText,
        });
        await PushImageAsync(client, TeamApp, "1", "amd64", new() { ["org.opencontainers.image.title"] = "Team app" });
        await PushImageAsync(client, TeamSecret, "1", "amd64", new() { ["org.opencontainers.image.title"] = "Team secret" });
    }

    public Task DisposeAsync()
    {
        _server?.Dispose();
        _data.Dispose();
        _cli.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// The index under <c>1.0</c> with the OCI annotations (on the index, where GHCR and others read them for
    /// multi-platform images), then a signature and an SBOM whose <c>subject</c> is the index.
    /// </summary>
    private async Task PushWebAppIndexAsync(HttpClient client)
    {
        var amd64 = await PushPlatformImageAsync(client, WebApp, "amd64");
        var arm64 = await PushPlatformImageAsync(client, WebApp, "arm64");
        PlatformDigests = [amd64.Digest, arm64.Digest];
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciMediaTypes.ImageIndex,
            ["manifests"] = new JsonArray(amd64.ToJson(), arm64.ToJson()),
            ["annotations"] = Annotations(new()
            {
                ["org.opencontainers.image.title"] = Title,
                ["org.opencontainers.image.description"] = Description,
                ["org.opencontainers.image.source"] = "https://example.com/berth/webapp",
                ["org.opencontainers.image.url"] = "https://example.com/webapp",
                ["org.opencontainers.image.documentation"] = "https://example.com/webapp/docs",
                ["org.opencontainers.image.licenses"] = "Apache-2.0",
                ["org.opencontainers.image.version"] = "1.0.0",
                ["org.opencontainers.image.revision"] = "4f1c2a9e0b7d",
            }),
        };
        var indexBytes = Json(index);
        IndexDigest = await client.PushManifestAsync(WebApp, "1.0", indexBytes, OciMediaTypes.ImageIndex);
        var subject = new Descriptor(OciMediaTypes.ImageIndex, IndexDigest, indexBytes.Length);

        await client.PushBlobAsync(WebApp, "{}"u8.ToArray());
        var payload = Encoding.UTF8.GetBytes($$"""{"critical":{"identity":{"docker-reference":"{{LoginServer}}/{{WebApp}}"},"image":{"docker-manifest-digest":"{{IndexDigest}}"},"type":"cosign container image signature"},"optional":null}""");
        var payloadDigest = await client.PushBlobAsync(WebApp, payload);
        var signatureLayer = new Descriptor("application/vnd.dev.cosign.simplesigning.v1+json", payloadDigest, payload.Length)
        {
            Annotations = new Dictionary<string, string> { ["dev.cosignproject.cosign/signature"] = "MEUCIQDsampleSignatureNotVerified==" },
        };
        SignatureDigest = await PushArtifactAsync(client, CosignSignatureType, signatureLayer, subject);

        var sbom = Encoding.UTF8.GetBytes("""{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"webapp","packages":[]}""");
        var sbomDigest = await client.PushBlobAsync(WebApp, sbom);
        SbomDigest = await PushArtifactAsync(client, SpdxType, new Descriptor(SpdxType, sbomDigest, sbom.Length), subject);
    }

    /// <summary>An artifact manifest (empty config, one layer, <c>artifactType</c>, <c>subject</c>), pushed by digest as cosign and oras do.</summary>
    private static async Task<string> PushArtifactAsync(HttpClient client, string artifactType, Descriptor layer, Descriptor subject)
    {
        var manifest = Json(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciMediaTypes.ImageManifest,
            ["artifactType"] = artifactType,
            ["config"] = Descriptor.EmptyConfig.ToJson(),
            ["layers"] = new JsonArray(layer.ToJson()),
            ["subject"] = subject.ToJson(),
        });
        return await client.PushManifestAsync(WebApp, TestImage.DigestOf(manifest), manifest);
    }

    private static async Task<string> PushImageAsync(HttpClient client, string repository, string tag, string architecture, Dictionary<string, string> annotations) =>
        (await PushPlatformImageAsync(client, repository, architecture, annotations, tag)).Digest;

    /// <summary>
    /// A one-layer image whose config has an entrypoint, a command, environment variables (one with a value that must
    /// never be shown) and labels, pushed under <paramref name="tag"/>, or by digest when it has none.
    /// </summary>
    private static async Task<Descriptor> PushPlatformImageAsync(HttpClient client, string repository, string architecture,
        Dictionary<string, string>? annotations = null, string? tag = null)
    {
        var (layer, diffId) = OciLayoutBuilder.RandomLayer($"srv/webapp-{architecture}", 48 * 1024);
        var layerDigest = await client.PushBlobAsync(repository, layer);
        var config = Json(new JsonObject
        {
            ["created"] = "2026-11-30T12:00:00Z",
            ["architecture"] = architecture,
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                ["Entrypoint"] = new JsonArray("/srv/webapp"),
                ["Cmd"] = new JsonArray("--listen", ":8080"),
                ["Env"] = new JsonArray("PATH=/usr/local/bin:/usr/bin:/bin", $"WEBAPP_API_KEY={SecretEnvironmentValue}"),
                ["Labels"] = new JsonObject { ["org.example.team"] = "platform" },
            },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(diffId) },
        });
        var configDigest = await client.PushBlobAsync(repository, config);
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciMediaTypes.ImageManifest,
            ["config"] = new Descriptor(OciMediaTypes.ImageConfig, configDigest, config.Length).ToJson(),
            ["layers"] = new JsonArray(new Descriptor(OciMediaTypes.LayerGzip, layerDigest, layer.Length).ToJson()),
        };
        if (annotations is not null) manifest["annotations"] = Annotations(annotations);
        var bytes = Json(manifest);
        var digest = await client.PushManifestAsync(repository, tag ?? TestImage.DigestOf(bytes), bytes);
        return new Descriptor(OciMediaTypes.ImageManifest, digest, bytes.Length) { Platform = ("linux", architecture) };
    }

    private static JsonObject Annotations(Dictionary<string, string> values) =>
        new(values.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)JsonValue.Create(v.Value))));

    /// <summary>
    /// JSON as push tools write it: characters such as <c>+</c> and <c>&lt;</c> stay literal rather than becoming
    /// <c>\u002B</c>, so the stored bytes (and the raw manifest the page shows) hold the text itself.
    /// </summary>
    private static byte[] Json(JsonObject node) =>
        Encoding.UTF8.GetBytes(node.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));

    /// <summary>The real <c>berth</c> executable against this server's data folder, with a private home; returns stdout.</summary>
    private async Task<string> BerthCliAsync(params string[] arguments)
    {
        var environment = new Dictionary<string, string>
        {
            ["HOME"] = _cli.Path,
            ["DOCKER_CONFIG"] = _cli.Combine("docker"),
            ["REGISTRY_AUTH_FILE"] = _cli.Combine("auth.json"),
        };
        var result = await ExternalTool.RunAsync("dotnet", [BerthProcess.ServerDllPath, .. arguments, "--data", _data.Path],
            environment, timeout: TimeSpan.FromMinutes(1), workingDirectory: _cli.Path);
        return result.EnsureSuccess().StandardOutput;
    }
}
