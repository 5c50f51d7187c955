namespace Berth.Core.Identity.Credentials;

/// <summary>
/// Encrypts the admin user's passwords at rest. Unlike token passwords they cannot be hashed: ACR's
/// <c>listCredentials</c> (and so <c>az acr credential show</c> and <c>az acr login</c>) returns them again.
/// AES-256-GCM with a key file beside the signing key; the ciphertext is bound to its registry and slot, so
/// a database row copied elsewhere does not decrypt. A stolen database alone reveals no password.
/// </summary>
public sealed class SecretProtector
{
    public const string KeyFileName = "secrets.key";
    private const string Prefix = "$aes256gcm$v=1$";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    private readonly Lazy<byte[]> _key;

    public SecretProtector(IOptions<IdentityOptions> options)
    {
        var directory = options.Value.KeyDirectory;
        _key = new Lazy<byte[]>(() => Convert.FromBase64String(
            KeyFiles.ReadOrCreate(directory, KeyFileName, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).Trim()));
    }

    public string Protect(string plaintext, string context)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceBytes);
        var input = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceBytes + TagBytes + input.Length];
        nonce.CopyTo(output, 0);
        using var aes = new AesGcm(_key.Value, TagBytes);
        aes.Encrypt(nonce, input, output.AsSpan(NonceBytes + TagBytes), output.AsSpan(NonceBytes, TagBytes), Encoding.UTF8.GetBytes(context));
        return Prefix + Convert.ToBase64String(output);
    }

    /// <summary>The plaintext, or null when the value was not produced by this key for this context.</summary>
    public string? UnprotectOrNull(string protectedValue, string context)
    {
        if (!protectedValue.StartsWith(Prefix, StringComparison.Ordinal))
            return null;
        byte[] data;
        try
        {
            data = Convert.FromBase64String(protectedValue[Prefix.Length..]);
        }
        catch (FormatException)
        {
            return null;
        }
        if (data.Length < NonceBytes + TagBytes)
            return null;
        var plaintext = new byte[data.Length - NonceBytes - TagBytes];
        try
        {
            using var aes = new AesGcm(_key.Value, TagBytes);
            aes.Decrypt(data.AsSpan(0, NonceBytes), data.AsSpan(NonceBytes + TagBytes), data.AsSpan(NonceBytes, TagBytes), plaintext, Encoding.UTF8.GetBytes(context));
        }
        catch (AuthenticationTagMismatchException)
        {
            return null;
        }
        return Encoding.UTF8.GetString(plaintext);
    }
}
