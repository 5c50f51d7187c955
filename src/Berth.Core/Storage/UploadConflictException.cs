namespace Berth.Core.Storage;

/// <summary>
/// Another writer (a second request, possibly on another node) appended to the same upload while this append ran, so
/// this append's bytes were not added. Nothing was lost; the client asks for the upload's offset and resends.
/// </summary>
public sealed class UploadConflictException(string uploadId)
    : Exception($"upload {uploadId} was appended to by another request at the same time");
