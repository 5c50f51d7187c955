namespace Berth.Core.Identity.Credentials;

/// <summary>Server-generated passwords: 52 characters from a CSPRNG (about 309 bits), letters and digits only so they survive shells and URLs.</summary>
public static class PasswordGenerator
{
    public const int Length = 52;

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static string Generate() => RandomNumberGenerator.GetString(Alphabet, Length);
}
