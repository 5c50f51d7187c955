using Berth.Cli.Credentials;
using static Berth.Cli.Commands.CommandBuilder;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth acr login</c> and <c>berth acr logout</c>. Instead of running <c>docker login</c> as az does, berth writes
/// the credential itself where docker, podman and skopeo read it (see <see cref="AuthFiles"/>), so no daemon is needed.
/// <c>-n</c> takes a registry name, its login server, or a <c>host:port</c> (e.g. <c>127.0.0.1:5000</c>): login
/// servers like <c>myregistry.acr.localhost</c> may not resolve on this machine, while the host:port the server
/// listens on always does and reaches the default registry. The entry is stored under exactly what was resolved.
/// </summary>
public static class LoginCommands
{
    public static IEnumerable<Command> Build(CommandBuilder builder)
    {
        yield return Login(builder);
        yield return Logout(builder);
    }

    private static Command Login(CommandBuilder builder)
    {
        var name = Required("--name", "The name of the container registry, its login server, or the host:port of the server.", "-n");
        var username = Optional("--username", "The username used to log into a container registry.", "-u");
        var password = Optional("--password", "The password used to log into a container registry.", "-p");
        var exposeToken = Flag("--expose-token", "Expose the access token instead of storing it for docker, podman and skopeo.", "-t");
        var suffix = Optional("--suffix", "The tenant suffix in the registry login server; used only when the management API cannot be asked.");
        return builder.Leaf("login", "Log in to an Azure Container Registry: store credentials for docker, podman and skopeo.",
            [name, username, password, exposeToken, suffix], async context =>
            {
                var user = context.Get(username);
                var secret = context.Get(password);
                if (context.Get(exposeToken) && (user is not null || secret is not null))
                {
                    throw CliException.Usage("usage error: --expose-token cannot be combined with --username/--password.");
                }
                if ((user is null) != (secret is null))
                {
                    throw CliException.Usage("usage error: --username and --password go together.");
                }
                var target = await RegistryTarget.ResolveAsync(context, context.Get(name)!, user is not null, context.Get(suffix));
                var client = new RegistryClient(context, target, user, secret);
                await client.ProbeAsync();
                if (user is null)
                {
                    if (!target.ManagementAvailable && !RegistryTarget.IsAddress(context.Get(name)!))
                    {
                        throw new CliException("No management credential to exchange for a registry token; pass --username and --password.");
                    }
                    if (RegistryTarget.IsAddress(context.Get(name)!))
                    {
                        _ = context.Management.Connection; // fails with the clear "no server / no credential" message
                    }
                    var refreshToken = await client.GetRefreshTokenAsync();
                    if (context.Get(exposeToken))
                    {
                        context.Warn($"You can perform manual login using the provided access token below, for example: 'docker login loginServer -u {RegistryClient.NullGuidUser} -p accessToken'");
                        context.Emit(new JsonObject { ["accessToken"] = refreshToken, ["loginServer"] = target.LoginServer });
                        return;
                    }
                    user = RegistryClient.NullGuidUser;
                    secret = refreshToken;
                }
                else
                {
                    await client.VerifyCredentialsAsync();
                }
                foreach (var preferred in AuthFiles.Paths(context.Environment))
                {
                    var path = preferred;
                    try
                    {
                        AuthFiles.Store(path, target.LoginServer, user, secret!);
                    }
                    catch (Exception error) when (error is UnauthorizedAccessException or IOException && path == AuthFiles.ContainersAuthPath(context.Environment))
                    {
                        // /run/containers/$UID exists only for users the system prepared it for; the tools read ~/.config next.
                        path = AuthFiles.ContainersConfigAuthPath(context.Environment);
                        context.DebugLine($"Cannot write {preferred} ({error.Message}); using {path}");
                        AuthFiles.Store(path, target.LoginServer, user, secret!);
                    }
                    context.DebugLine($"Stored credentials for {target.LoginServer} in {path}");
                    if (AuthFiles.HasCredentialHelper(path, target.LoginServer))
                    {
                        context.Warn($"{path} configures a credential helper, which docker consults before 'auths'.");
                    }
                }
                await WarnIfUnresolvableAsync(context, target);
                context.Environment.Out.WriteLine("Login Succeeded");
            });
    }

    private static Command Logout(CommandBuilder builder)
    {
        var name = Required("--name", "The name of the container registry, its login server, or the host:port used at login.", "-n");
        var suffix = Optional("--suffix", "The tenant suffix in the registry login server; used only when the management API cannot be asked.");
        return builder.Leaf("logout", "Log out from an Azure Container Registry: remove its stored credentials from every file docker, podman and skopeo read.", [name, suffix], async context =>
        {
            var given = context.Get(name)!;
            string server;
            if (RegistryTarget.IsAddress(given) || given.Contains('.'))
            {
                // A login server or address names the entry directly; no server needs to be running to forget it.
                server = given.ToLowerInvariant();
            }
            else
            {
                server = (await RegistryTarget.ResolveAsync(context, given, credentialsGiven: true, context.Get(suffix))).LoginServer;
            }
            var removed = false;
            foreach (var path in AuthFiles.AllPaths(context.Environment))
            {
                try
                {
                    if (AuthFiles.Remove(path, server))
                    {
                        removed = true;
                        context.DebugLine($"Removed credentials for {server} from {path}");
                    }
                }
                catch (Exception error) when (error is UnauthorizedAccessException or IOException)
                {
                    // Another user's file (root's /run/containers/0) is not ours to clear, and tools run as us do not read it.
                    context.DebugLine($"Cannot read {path}: {error.Message}");
                }
            }
            if (!removed)
            {
                context.Warn($"Not logged in to {server}.");
            }
            context.Emit(null);
        });
    }

    private static async Task WarnIfUnresolvableAsync(CommandContext context, RegistryTarget target)
    {
        var host = new Uri("http://" + target.LoginServer).Host;
        if (IPAddress.TryParse(host.Trim('[', ']'), out _))
        {
            return;
        }
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await Dns.GetHostAddressesAsync(host, timeout.Token);
        }
        catch (Exception error) when (error is System.Net.Sockets.SocketException or OperationCanceledException or ArgumentException)
        {
            context.Warn($"'{host}' does not resolve here; container tools need a hosts entry ('127.0.0.1 {host}') or, for the default registry, log in with -n <host>:<port> of the server.");
        }
    }
}
