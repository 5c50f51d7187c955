namespace Berth.Server.Management;

/// <summary>A management request refused with ARM's error shape <c>{"error":{"code","message"}}</c> and an HTTP status.</summary>
public sealed class ArmException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;

    public static ArmException BadRequest(string message, string code = "BadRequest") => new(StatusCodes.Status400BadRequest, code, message);

    public static ArmException InvalidParameter(string message) => new(StatusCodes.Status400BadRequest, "InvalidParameter", message);

    public static ArmException NotFound(string message, string code = "ResourceNotFound") => new(StatusCodes.Status404NotFound, code, message);

    public static ArmException Conflict(string message, string code = "Conflict") => new(StatusCodes.Status409Conflict, code, message);

    /// <summary>ARM's wording for a missing resource, so users recognise it.</summary>
    public static ArmException ResourceNotFound(string type, string name, string resourceGroup) =>
        NotFound($"The Resource '{type}/{name}' under resource group '{resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix");

    /// <summary>
    /// ARM's wording for a missing child resource, named in ARM's order:
    /// <c>Microsoft.ContainerRegistry/registries/{registry}/tokens/{token}</c>, not type then names.
    /// </summary>
    public static ArmException ChildResourceNotFound(string childType, string parentName, string name, string resourceGroup)
    {
        var split = childType.LastIndexOf('/');
        return ResourceNotFound(childType[..split], $"{parentName}/{childType[(split + 1)..]}/{name}", resourceGroup);
    }

    /// <summary>Registry rule violations: ACR's tier message for anonymous pull is passed through verbatim.</summary>
    public static ArmException From(RegistryException error) => error.Code switch
    {
        RegistryErrorCode.NotFound => NotFound(error.Message),
        RegistryErrorCode.AlreadyExists => Conflict(error.Message, "AlreadyInUse"),
        RegistryErrorCode.InvalidName => InvalidParameter(error.Message),
        RegistryErrorCode.Conflict => Conflict(error.Message),
        _ => BadRequest(error.Message),
    };

    public static ArmException From(IdentityException error) => error.Code switch
    {
        IdentityErrorCode.NotFound => NotFound(error.Message),
        IdentityErrorCode.LimitExceeded => Conflict(error.Message, "QuotaExceeded"),
        IdentityErrorCode.SystemScopeMapReadOnly => BadRequest(error.Message, "OperationNotAllowed"),
        IdentityErrorCode.ScopeMapInUse => Conflict(error.Message),
        IdentityErrorCode.AdminUserDisabled => BadRequest(error.Message, "AdminUserDisabled"),
        _ => InvalidParameter(error.Message),
    };
}
