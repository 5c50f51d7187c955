namespace Berth.Oci;

/// <summary>The error codes of the OCI Distribution Spec (§ Error Codes) plus the Docker/ACR codes clients expect.</summary>
public enum OciErrorCode
{
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    SizeInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    TooManyRequests,
    RangeInvalid,
    TagInvalid,
    PaginationNumberInvalid,

    /// <summary>ACR's /acr/v1 answer for a tag that does not exist.</summary>
    TagUnknown,

    /// <summary>A service the registry depends on cannot be reached (distribution's code for 503).</summary>
    Unavailable,
}

public static class OciErrorCodes
{
    public static string Wire(this OciErrorCode code) => code switch
    {
        OciErrorCode.BlobUnknown => "BLOB_UNKNOWN",
        OciErrorCode.BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
        OciErrorCode.BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
        OciErrorCode.DigestInvalid => "DIGEST_INVALID",
        OciErrorCode.ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
        OciErrorCode.ManifestInvalid => "MANIFEST_INVALID",
        OciErrorCode.ManifestUnknown => "MANIFEST_UNKNOWN",
        OciErrorCode.NameInvalid => "NAME_INVALID",
        OciErrorCode.NameUnknown => "NAME_UNKNOWN",
        OciErrorCode.SizeInvalid => "SIZE_INVALID",
        OciErrorCode.Unauthorized => "UNAUTHORIZED",
        OciErrorCode.Denied => "DENIED",
        OciErrorCode.Unsupported => "UNSUPPORTED",
        OciErrorCode.TooManyRequests => "TOOMANYREQUESTS",
        OciErrorCode.RangeInvalid => "RANGE_INVALID",
        OciErrorCode.TagInvalid => "TAG_INVALID",
        OciErrorCode.PaginationNumberInvalid => "PAGINATION_NUMBER_INVALID",
        OciErrorCode.TagUnknown => "TAG_UNKNOWN",
        OciErrorCode.Unavailable => "UNAVAILABLE",
        _ => throw new ArgumentOutOfRangeException(nameof(code)),
    };

    /// <summary>The HTTP status the spec (or distribution, where the spec is silent) pairs with each code.</summary>
    public static int DefaultStatus(this OciErrorCode code) => code switch
    {
        OciErrorCode.BlobUnknown => 404,
        OciErrorCode.BlobUploadUnknown => 404,
        OciErrorCode.ManifestUnknown => 404,
        OciErrorCode.NameUnknown => 404,
        OciErrorCode.TagUnknown => 404,
        OciErrorCode.Unauthorized => 401,
        OciErrorCode.Denied => 403,
        OciErrorCode.Unsupported => 405,
        OciErrorCode.TooManyRequests => 429,
        OciErrorCode.RangeInvalid => 416,
        OciErrorCode.Unavailable => 503,
        _ => 400,
    };
}

/// <summary>A request the data plane rejects with a spec error code.</summary>
public sealed class OciException(OciErrorCode code, string message, object? detail = null, int? status = null)
    : Exception(message)
{
    public OciErrorCode Code { get; } = code;
    public object? Detail { get; } = detail;
    public int Status { get; } = status ?? code.DefaultStatus();
}
