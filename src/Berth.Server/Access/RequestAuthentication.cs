using System.Text;

namespace Berth.Server.Access;

/// <summary>
/// Reads the credentials a request presents (Bearer access token, or Basic as ACR also accepts on the data plane)
/// and authenticates them. Presented credentials are always checked; a request is anonymous only when it presents none.
/// </summary>
public static class RequestAuthentication
{
    public static RegistryContext ToContext(this Registry registry) =>
        new(registry.Name, registry.LoginServer, registry.AnonymousPullEnabled, AnonymousAccess.For(registry.AnonymousPullRepositories));

    /// <summary>Null when the request carries no credentials at all.</summary>
    public static async Task<AuthenticationResult?> AuthenticateOrNullAsync(HttpContext context, Registry registry)
    {
        var header = context.Request.Headers[HeaderNames.Authorization].ToString();
        if (string.IsNullOrWhiteSpace(header)) return null;
        var authentication = context.RequestServices.GetRequiredService<AuthenticationService>();
        var registryContext = registry.ToContext();

        if (TryGetCredential(header, "Bearer", out var bearer))
            return await authentication.AuthenticateBearerAsync(registryContext, bearer, context.RequestAborted);
        if (TryReadBasic(header, out var username, out var password))
            return await authentication.AuthenticateBasicAsync(registryContext, username, password, context.RequestAborted);
        return AuthenticationResult.Fail(AuthenticationFailure.InvalidToken, "unsupported Authorization scheme; use Basic or Bearer");
    }

    /// <summary>Parses <c>Authorization: Basic base64(user:password)</c>; false if absent or malformed.</summary>
    public static bool TryReadBasic(string header, out string username, out string password)
    {
        username = password = "";
        if (!TryGetCredential(header, "Basic", out var encoded)) return false;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = decoded.IndexOf(':');
        if (colon < 0) return false;
        username = decoded[..colon];
        password = decoded[(colon + 1)..];
        return true;
    }

    /// <summary>
    /// The message for rejected credentials. On a registry with anonymous pull on, it also says that pulling needs
    /// no credentials at all and how to drop the stored ones, because stale logins are the usual cause.
    /// </summary>
    public static string RejectedMessage(Registry registry, AuthenticationResult result)
    {
        if (!registry.AnonymousPullEnabled) return Challenges.AuthenticationRequired;
        return $"the credentials presented were rejected ({Describe(result.Failure)}). Registry {registry.LoginServer} allows anonymous pull: " +
            $"to pull without credentials, remove the stored ones with 'docker logout {registry.LoginServer}' or 'podman logout {registry.LoginServer}'.";
    }

    private static string Describe(AuthenticationFailure failure) => failure switch
    {
        AuthenticationFailure.UnknownUser or AuthenticationFailure.WrongPassword => "unknown user name or wrong password",
        AuthenticationFailure.Disabled => "the identity is disabled",
        AuthenticationFailure.Expired => "the password has expired",
        _ => "the token is invalid or expired",
    };

    private static bool TryGetCredential(string header, string scheme, out string credential)
    {
        credential = "";
        if (header.Length <= scheme.Length + 1 || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || header[scheme.Length] != ' ')
            return false;
        credential = header[(scheme.Length + 1)..].Trim();
        return credential.Length > 0;
    }
}
