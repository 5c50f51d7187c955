namespace Berth.Core.Identity;

/// <summary>The admin user's password slots, named as ARM names them (reference §4.1: not password1).</summary>
public static class AdminPasswordNames
{
    public const string Password = "password";
    public const string Password2 = "password2";

    public static bool IsValid(string? name) => name is Password or Password2;

    /// <summary>Binds an encrypted password to its registry and slot.</summary>
    internal static string Context(string registry, string name) => $"admin:{registry.ToLowerInvariant()}:{name}";
}

/// <summary>A token's password slots (reference §4.2).</summary>
public static class TokenPasswordNames
{
    public const string Password1 = "password1";
    public const string Password2 = "password2";

    public static bool IsValid(string? name) => name is Password1 or Password2;
}

/// <summary>The admin user as the registry resource shows it (<c>adminUserEnabled</c>).</summary>
public sealed record AdminUser(string Username, bool Enabled);

/// <summary>The <c>listCredentials</c> / <c>regenerateCredential</c> response: the username and both passwords in clear.</summary>
public sealed record AdminCredentials(string Username, string Password, string Password2);

/// <summary>A token password's metadata; its value is never shown again after generation.</summary>
public sealed record TokenPasswordInfo(string Name, DateTimeOffset CreationTime, DateTimeOffset? Expiry);

/// <summary>A token as the management plane shows it.</summary>
public sealed record Token(
    string Name,
    string ScopeMapName,
    bool Enabled,
    DateTimeOffset CreationDate,
    IReadOnlyList<TokenPasswordInfo> Passwords,
    long Version);

public sealed record GeneratedPassword(string Name, string Value, DateTimeOffset CreationTime, DateTimeOffset? Expiry);

/// <summary>The <c>generateCredentials</c> response: the only time password values are returned.</summary>
public sealed record GeneratedCredentials(string Username, IReadOnlyList<GeneratedPassword> Passwords);

/// <summary>A token PATCH: null leaves a property as it is.</summary>
/// <param name="KeepPasswords">
/// When set, the passwords to keep; any other is deleted. This is how az deletes a password: it PATCHes
/// <c>credentials.passwords</c> with only the names to keep (reference §4.2).
/// </param>
public sealed record TokenUpdate(string? ScopeMapName = null, bool? Enabled = null, IReadOnlyCollection<string>? KeepPasswords = null);
