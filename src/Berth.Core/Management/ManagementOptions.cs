namespace Berth.Core.Management;

/// <summary>
/// Options for the management plane's sign-in (configuration section <c>Berth:Management</c>). Only
/// <see cref="Directory"/> must be set; it holds the owner credential file and the token signing key.
/// </summary>
public sealed class ManagementOptions
{
    /// <summary>Folder (mode 0700) for <c>owner.json</c> and <c>endpoint.json</c>; normally <c>&lt;data&gt;/management</c>.</summary>
    public string Directory { get; set; } = "";

    /// <summary>
    /// Folder for the management signing key; empty means <see cref="Directory"/>. The host points it at the key folder
    /// every node shares (<c>Berth:KeyPath</c>), since a token one node signs must pass on every other node.
    /// </summary>
    public string KeyDirectory { get; set; } = "";

    /// <summary>
    /// When the owner exists but this node has no <c>owner.json</c>, give the owner a new secret and write it here (the
    /// database keeps only a hash, so that is the only way to recover a lost file). Set it false on every node but one
    /// when several nodes share a database: a node joining the cluster would otherwise replace the owner's secret.
    /// </summary>
    public bool ReissueLostOwnerSecret { get; set; } = true;

    /// <summary>The tenant every principal belongs to; az needs a <c>tid</c> claim and a tenant on the subscription.</summary>
    public string TenantId { get; set; } = "00000000-0000-0000-0000-000000000001";

    /// <summary>The <c>iss</c> claim of management tokens.</summary>
    public string Issuer { get; set; } = "Berth Management";

    /// <summary>
    /// Lifetime of management access tokens. az (MSAL) caches them and signs in again with the client secret
    /// once they expire, so a short lifetime costs one token request per period.
    /// </summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Serve the managed-identity token endpoint (<c>/msi/token</c>, for <c>az login --identity</c> with
    /// <c>MSI_ENDPOINT</c>). Off by default: it hands owner tokens to anyone who can reach it, so even when on it
    /// answers loopback callers only (configuration <c>Berth:Management:ManagedIdentityEnabled=true</c>).
    /// </summary>
    public bool ManagedIdentityEnabled { get; set; }

    /// <summary>Tolerance for other nodes' clocks when checking <c>nbf</c> and <c>exp</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
            throw new InvalidOperationException("Management:Directory must be set to a folder for the owner credential and signing key");
        if (!Guid.TryParse(TenantId, out _))
            throw new InvalidOperationException($"Management:TenantId \"{TenantId}\" must be a GUID");
        if (AccessTokenLifetime <= TimeSpan.Zero)
            throw new InvalidOperationException("Management:AccessTokenLifetime must be positive");
    }
}
