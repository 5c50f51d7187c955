using Berth.Core.Identity;
using Berth.Core.Identity.Credentials;
using Berth.Core.Identity.Tokens;
using Berth.Metadata.Sql;
using Berth.Metadata.Sqlite;
using Microsoft.Extensions.Options;
using Berth.Core.Storage;

namespace Berth.Core.Tests.Identity;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public ManualTimeProvider() : this(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero)) { }

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>A temporary folder removed after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "berth-core-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// The real identity stack over a real SQLite file in a temporary folder, with a manual clock and a low
/// PBKDF2 iteration count so tests stay fast (the count is stored with each hash, so nothing else changes).
/// </summary>
internal sealed class IdentityFixture : IDisposable
{
    public const string RegistryName = "myregistry";
    public const string LoginServer = "myregistry.localhost:5000";

    private readonly TempFolder _folder = new();

    public IdentityFixture(Action<IdentityOptions>? configure = null)
    {
        var identityOptions = new IdentityOptions
        {
            KeyDirectory = System.IO.Path.Combine(_folder.Path, "keys"),
        };
        configure?.Invoke(identityOptions);
        Options = Microsoft.Extensions.Options.Options.Create(identityOptions);
        Database = new SqliteDatabase(System.IO.Path.Combine(_folder.Path, "berth.db"));
        Store = new SqlIdentityStore(Database);
        SigningKey = new SigningKey(Options);
        Secrets = new SecretProtector(Options);
        Cache = new VerificationCache(Time, Options);
        Tokens = new RegistryTokenService(SigningKey, Time, Options);
        Identities = new IdentityService(Store, Secrets, Time);
        Authentication = new AuthenticationService(Store, Tokens, Secrets, Cache, Time);
    }

    public ManualTimeProvider Time { get; } = new();
    public IOptions<IdentityOptions> Options { get; }
    public string KeyDirectory => Options.Value.KeyDirectory;
    public string FolderPath => _folder.Path;
    public SqliteDatabase Database { get; }
    public SqlIdentityStore Store { get; }
    public SigningKey SigningKey { get; }
    public SecretProtector Secrets { get; }
    public VerificationCache Cache { get; }
    public RegistryTokenService Tokens { get; }
    public IdentityService Identities { get; }
    public AuthenticationService Authentication { get; }

    public RegistryContext Registry { get; set; } = new(RegistryName, LoginServer, AnonymousPullEnabled: false);

    public void Dispose()
    {
        Database.ClearPool();
        _folder.Dispose();
    }
}
