namespace Berth.Core.Identity;

/// <summary>Why an identity management operation was refused; the management plane maps each to an ARM error.</summary>
public enum IdentityErrorCode
{
    /// <summary>A token or scope map name breaks ACR's naming rules.</summary>
    InvalidName,

    /// <summary>A scope-map action string is malformed or names an invalid repository.</summary>
    InvalidAction,

    /// <summary>Some other argument is invalid (a password name, an expiry in the past, a missing scope map).</summary>
    InvalidArgument,

    /// <summary>The token or scope map does not exist.</summary>
    NotFound,

    /// <summary>The tier's token, scope map, action or repository limit would be exceeded (reference §6).</summary>
    LimitExceeded,

    /// <summary>System scope maps cannot be created, changed or deleted.</summary>
    SystemScopeMapReadOnly,

    /// <summary>The scope map is still referenced by tokens.</summary>
    ScopeMapInUse,

    /// <summary>The admin user is disabled, so its credentials cannot be listed or regenerated.</summary>
    AdminUserDisabled,
}

/// <summary>A management operation on identities was refused; <see cref="Exception.Message"/> is a one-line reason fit for users.</summary>
public sealed class IdentityException(IdentityErrorCode code, string message) : Exception(message)
{
    public IdentityErrorCode Code { get; } = code;
}
