namespace Berth.Core.Identity;

/// <summary>
/// Options for identities and the token service (configuration section <c>Identity</c>). Only
/// <see cref="KeyDirectory"/> must be set; every default follows ACR (reference §1.5).
/// </summary>
public sealed class IdentityOptions
{
    public const string SectionName = "Identity";

    /// <summary>
    /// Folder for the token signing key and the admin-password encryption key, created 0700 with 0600 files;
    /// normally <c>&lt;data&gt;/keys</c>, or <c>Berth:KeyPath</c>. Nodes that share a registry must share these files.
    /// </summary>
    public string KeyDirectory { get; set; } = "";

    /// <summary>The <c>iss</c> claim. ACR's value, which no client checks but which keeps tokens look-alike.</summary>
    public string Issuer { get; set; } = "Azure Container Registry";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(75);

    public TimeSpan AnonymousAccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(20);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromHours(3);

    /// <summary>Tolerance for clocks of other nodes when checking <c>nbf</c> and <c>exp</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a successful password verification is remembered (changes to the identity end it at once).</summary>
    public TimeSpan VerificationCacheDuration { get; set; } = TimeSpan.FromSeconds(60);

    public int VerificationCacheCapacity { get; set; } = 10_000;

    /// <summary>Checks the options at start-up so that bad configuration stops the process with a clear message.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(KeyDirectory))
            throw new InvalidOperationException("Identity:KeyDirectory must be set to a folder for the token signing key");
        if (AccessTokenLifetime <= TimeSpan.Zero || AnonymousAccessTokenLifetime <= TimeSpan.Zero || RefreshTokenLifetime <= TimeSpan.Zero)
            throw new InvalidOperationException("Identity token lifetimes must be positive");
        if (ClockSkew < TimeSpan.Zero || VerificationCacheDuration < TimeSpan.Zero)
            throw new InvalidOperationException("Identity:ClockSkew and Identity:VerificationCacheDuration must not be negative");
    }
}
