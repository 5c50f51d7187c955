namespace Berth.Core.Management;

/// <summary>What a management principal may do. Only owners exist today; the role is stored so others can follow.</summary>
public enum ManagementRole
{
    Owner,
}

/// <summary>
/// A service principal that signs in to the management plane with a client id and secret. The secret is kept as a
/// salted hash; <see cref="SecretCreatedAt"/> names its generation so that tokens obtained with an old secret can be
/// recognised after a rotation.
/// </summary>
public sealed record ServicePrincipal(
    string ClientId,
    string DisplayName,
    ManagementRole Role,
    string SecretHash,
    DateTimeOffset SecretCreatedAt,
    DateTimeOffset CreatedAt);

/// <summary>Management service principals, keyed by client id (case-insensitive, as AAD compares GUIDs).</summary>
public interface IServicePrincipalStore
{
    Task<ServicePrincipal?> GetOrNullAsync(string clientId, CancellationToken cancellationToken);

    Task<IReadOnlyList<ServicePrincipal>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Inserts the principal; false if its client id exists already.</summary>
    Task<bool> CreateAsync(ServicePrincipal principal, CancellationToken cancellationToken);

    /// <summary>Replaces a principal's secret hash and generation.</summary>
    Task<bool> UpdateSecretAsync(string clientId, string secretHash, DateTimeOffset secretCreatedAt, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string clientId, CancellationToken cancellationToken);
}

/// <summary>Who is calling the management plane: the principal behind a validated management token.</summary>
public sealed record ManagementCaller(string ClientId, string DisplayName, ManagementRole Role, string TenantId)
{
    /// <summary>How activity-log entries and <c>systemData</c> name this caller.</summary>
    public string Actor => $"{DisplayName} ({ClientId})";
}
