using Berth.Server.Access;

namespace Berth.Server.Management;

/// <summary>
/// "Who can pull this?" (Berth's ARM action <c>registries/{r}/checkAccess</c>): the actions one subject (anonymous, a
/// token, the admin user) may take on a repository now, and the rule that grants each, a scope-map action, the admin
/// user or an anonymous-pull pattern. Answered by the policy code that serves requests: the subject's rights are built
/// as its next request would build them.
/// </summary>
internal static class AccessCheckHandlers
{
    private static readonly (RepositoryActions Flag, string Name)[] Actions =
    [
        (RepositoryActions.Pull, ScopeNames.Pull), (RepositoryActions.Push, ScopeNames.Push), (RepositoryActions.Delete, ScopeNames.Delete),
        (RepositoryActions.MetadataRead, ScopeNames.MetadataRead), (RepositoryActions.MetadataWrite, ScopeNames.MetadataWrite),
    ];

    public static async Task CheckAccessAsync(HttpContext context, string subscriptionId, string resourceGroup, string name)
    {
        var registry = await ArmScope.FindRegistryAsync(context, subscriptionId, resourceGroup, name);
        var body = await ArmRequest.ReadObjectAsync(context, required: true);
        var repository = ArmRequest.GetString(body, "repository")
            ?? throw ArmException.InvalidParameter("The property 'repository' is required.");
        if (!Names.IsValidRepository(repository))
            throw ArmException.InvalidParameter($"The repository '{repository}' is not a valid repository name.");
        var token = ArmRequest.GetString(body, "token");
        var subjects = new[] { ArmRequest.GetBool(body, "anonymous") == true, ArmRequest.GetBool(body, "admin") == true, token is not null };
        if (subjects.Count(given => given) != 1)
            throw ArmException.InvalidParameter("Name exactly one subject: 'anonymous': true, 'admin': true or 'token': '<name>'.");
        var (kind, subject) = subjects[0] ? (PrincipalKind.Anonymous, "anonymous") : subjects[1] ? (PrincipalKind.Admin, "admin user") : (PrincipalKind.Token, $"token {token}");

        var result = await context.RequestServices.GetRequiredService<AuthenticationService>()
            .DescribeAsync(registry.ToContext(), kind, token, context.RequestAborted);
        if (result.Failure == AuthenticationFailure.UnknownUser)
            throw ArmException.NotFound($"The token '{token}' was not found in registry '{registry.Name}'.");
        var rules = result.Principal?.Permissions.RulesCovering(repository).ToList() ?? [];
        var actions = new JsonArray();
        foreach (var (flag, action) in Actions)
        {
            var grantedBy = rules.Where(rule => (rule.Actions & flag) != 0).Select(rule => (JsonNode?)rule.GrantedBy).Distinct().ToArray();
            if (grantedBy.Length > 0) actions.Add(new JsonObject { ["action"] = action, ["grantedBy"] = new JsonArray(grantedBy) });
        }
        await ArmResults.WriteJsonAsync(context, new JsonObject
        {
            ["repository"] = repository,
            ["subject"] = subject,
            ["actions"] = actions,
            // Why nothing at all is allowed, when that is the subject's state rather than a missing rule.
            ["reason"] = result.Succeeded ? null : result.Detail,
        });
    }
}
