using System.Text.Json;
using Berth.Azure.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Berth.Azure.Tests;

/// <summary>
/// The unmodified Azure CLI (Debian azure-cli 2.45) against a Berth process over HTTPS, set up with exactly the lines
/// the server printed (az-setup.txt), signed in both ways, running ACR's documentation flow verbatim and the rest of
/// the az surface in reference/az-cli-surface.md. Every test also proves az never tried to leave loopback.
/// </summary>
public sealed class AzureCliTests(AzureFixture fixture, ITestOutputHelper output) : IClassFixture<AzureFixture>
{
    private HttpsBerthServer Server => fixture.Server;

    [Fact]
    public async Task ServicePrincipal_sign_in_runs_the_documentation_flow_and_the_acr_commands()
    {
        using var az = new AzureCli(Server, fixture.Proxy);
        try
        {
            var setup = await az.RunScriptAsync(fixture.SetupScript(managedIdentity: false));
            Assert.True(setup.ExitCode == 0, setup.Describe());
            Assert.Contains(Server.OwnerClientId, setup.StandardOutput);

            Assert.Contains("myregistry", await az.OkAsync("acr", "list", "--query", "[].name", "-o", "tsv"));
            // The registry was created by a plain-HTTP start without a port; the HTTPS start moved it to the listener's port,
            // which is why every data-plane az command below reaches the server.
            Assert.Equal("myregistry.acr.localhost", Server.QuickStartLoginServer);
            Assert.Equal($"myregistry.acr.localhost:{Server.Port}", await az.OkAsync("acr", "show", "-n", "myregistry", "--query", "loginServer", "-o", "tsv"));
            Assert.Contains($"login server is now myregistry.acr.localhost:{Server.Port} (was myregistry.acr.localhost)", Server.Output);
            await DocumentationFlowAsync(az);

            // Admin credentials: show and renew.
            Assert.Equal("myregistry", await az.OkAsync("acr", "credential", "show", "-n", "myregistry", "--query", "username", "-o", "tsv"));
            var renewed = JsonDocument.Parse(await az.OkAsync("acr", "credential", "renew", "-n", "myregistry", "--password-name", "password2", "-o", "json"));
            Assert.Equal(2, renewed.RootElement.GetProperty("passwords").GetArrayLength());

            // A scope map and a token bound to it; the token's password pulls the image with skopeo.
            await az.OkAsync("acr", "scope-map", "create", "-n", "helloreader", "-r", "myregistry", "--repository", AzureFixture.Repository,
                "content/read", "metadata/read", "--description", "read samples/hello", "-o", "none");
            Assert.Contains("helloreader", await az.OkAsync("acr", "scope-map", "list", "-r", "myregistry", "--query", "[].name", "-o", "tsv"));
            Assert.Contains($"repositories/{AzureFixture.Repository}/content/read",
                await az.OkAsync("acr", "scope-map", "show", "-n", "helloreader", "-r", "myregistry", "--query", "actions", "-o", "tsv"));
            // scope-map update: az reads the map, adds the actions and PATCHes the whole list back.
            await az.OkAsync("acr", "scope-map", "update", "-n", "helloreader", "-r", "myregistry", "--add-repository", "samples/other", "content/read", "-o", "none");
            var updatedActions = await az.OkAsync("acr", "scope-map", "show", "-n", "helloreader", "-r", "myregistry", "--query", "actions", "-o", "tsv");
            Assert.Contains("repositories/samples/other/content/read", updatedActions);
            Assert.Contains($"repositories/{AzureFixture.Repository}/content/read", updatedActions);
            using var token = JsonDocument.Parse(await az.OkAsync("acr", "token", "create", "-n", "hellotoken", "-r", "myregistry", "--scope-map", "helloreader", "-o", "json"));
            var tokenPassword = token.RootElement.GetProperty("credentials").GetProperty("passwords")[0].GetProperty("value").GetString()!;
            var tokenPull = await fixture.SkopeoPullAsync($"{AzureFixture.Repository}:1", $"hellotoken:{tokenPassword}");
            Assert.True(tokenPull.ExitCode == 0, tokenPull.Describe());
            Assert.Equal("1", await az.OkAsync("acr", "repository", "show-tags", "-n", "myregistry", "--repository", AzureFixture.Repository,
                "-u", "hellotoken", "-p", tokenPassword, "-o", "tsv"));

            // token create --repository makes its own scope map; then the token commands.
            await az.OkAsync("acr", "token", "create", "-n", "token2", "-r", "myregistry", "--repository", AzureFixture.Repository, "content/read", "-o", "none");
            Assert.Contains("token2-scope-map", await az.OkAsync("acr", "scope-map", "list", "-r", "myregistry", "--query", "[].name", "-o", "tsv"));
            var tokens = await az.OkAsync("acr", "token", "list", "-r", "myregistry", "--query", "[].name", "-o", "tsv");
            Assert.Contains("hellotoken", tokens);
            Assert.Contains("token2", tokens);
            Assert.Equal("disabled", await az.OkAsync("acr", "token", "update", "-n", "token2", "-r", "myregistry", "--status", "disabled", "--query", "status", "-o", "tsv"));
            Assert.Equal("disabled", await az.OkAsync("acr", "token", "show", "-n", "token2", "-r", "myregistry", "--query", "status", "-o", "tsv"));
            using var generated = JsonDocument.Parse(await az.OkAsync("acr", "token", "credential", "generate", "-n", "hellotoken", "-r", "myregistry", "--password2", "-o", "json"));
            Assert.Equal("password2", generated.RootElement.GetProperty("passwords")[0].GetProperty("name").GetString());

            // Data-plane commands: with -u/-p (admin user), and through /oauth2/exchange with the signed-in principal.
            Assert.Contains(AzureFixture.Repository, await az.OkAsync("acr", "repository", "list", "-n", "myregistry", "-u", Server.AdminUsername, "-p", Server.AdminPassword, "-o", "tsv"));
            Assert.Contains(AzureFixture.Repository, await az.OkAsync("acr", "repository", "list", "-n", "myregistry", "-o", "tsv"));
            Assert.Equal("1", await az.OkAsync("acr", "repository", "show-tags", "-n", "myregistry", "--repository", AzureFixture.Repository, "-o", "tsv"));
            Assert.Equal(AzureFixture.Repository, await az.OkAsync("acr", "repository", "show", "-n", "myregistry", "--repository", AzureFixture.Repository, "--query", "imageName", "-o", "tsv"));
            using (var admin = Server.CreateAdminClient())
            {
                await Berth.Testing.RegistryHttp.PushManifestAsync(admin, AzureFixture.Repository, "2", fixture.Image.Manifest);
                await Berth.Testing.RegistryHttp.PushImageAsync(admin, "samples/scratch", new Berth.Testing.TestImage(), "1");
            }
            await az.OkAsync("acr", "repository", "untag", "-n", "myregistry", "--image", $"{AzureFixture.Repository}:2");
            Assert.Equal("1", await az.OkAsync("acr", "repository", "show-tags", "-n", "myregistry", "--repository", AzureFixture.Repository, "-o", "tsv"));
            await az.OkAsync("acr", "repository", "delete", "-n", "myregistry", "--repository", "samples/scratch", "--yes");
            Assert.DoesNotContain("samples/scratch", await az.OkAsync("acr", "repository", "list", "-n", "myregistry", "-o", "tsv"));

            // acr login --expose-token prints the refresh token from /oauth2/exchange.
            using (var exposed = JsonDocument.Parse(await az.OkAsync("acr", "login", "-n", "myregistry", "--expose-token", "-o", "json")))
            {
                Assert.Equal(Server.LoginServer, exposed.RootElement.GetProperty("loginServer").GetString());
                Assert.Equal(3, exposed.RootElement.GetProperty("accessToken").GetString()!.Split('.').Length);
            }

            // Registries: create, show, update, delete.
            await az.OkAsync("acr", "create", "-n", AzureFixture.SecondRegistry, "-g", "berth", "--sku", "Standard", "-o", "none");
            Assert.Equal($"{AzureFixture.SecondRegistry}.{Server.LoginServerSuffix}", await az.OkAsync("acr", "show", "-n", AzureFixture.SecondRegistry, "--query", "loginServer", "-o", "tsv"));
            Assert.Equal("true", await az.OkAsync("acr", "update", "-n", AzureFixture.SecondRegistry, "--admin-enabled", "true", "--query", "adminUserEnabled", "-o", "tsv"));
            await az.OkAsync("acr", "delete", "-n", AzureFixture.SecondRegistry, "--yes");
            Assert.DoesNotContain(AzureFixture.SecondRegistry, await az.OkAsync("acr", "list", "--query", "[].name", "-o", "tsv"));

            // Clean-up commands.
            await az.OkAsync("acr", "token", "delete", "-n", "token2", "-r", "myregistry", "--yes");
            await az.OkAsync("acr", "scope-map", "delete", "-n", "token2-scope-map", "-r", "myregistry", "--yes");
            Assert.DoesNotContain("token2", await az.OkAsync("acr", "token", "list", "-r", "myregistry", "--query", "[].name", "-o", "tsv"));
            AssertStayedOnLoopback();
        }
        finally
        {
            Report(az);
        }
    }

    [Fact]
    public async Task Managed_identity_sign_in_runs_the_documentation_flow()
    {
        using var az = new AzureCli(Server, fixture.Proxy);
        try
        {
            var setup = await az.RunScriptAsync(fixture.SetupScript(managedIdentity: true));
            Assert.True(setup.ExitCode == 0, setup.Describe());
            Assert.Contains("systemAssignedIdentity", setup.StandardOutput);

            await DocumentationFlowAsync(az);
            Assert.Contains(AzureFixture.Repository, await az.OkAsync("acr", "repository", "list", "-n", "myregistry", "-o", "tsv"));
            Assert.Equal("1", await az.OkAsync("acr", "repository", "show-tags", "-n", "myregistry", "--repository", AzureFixture.Repository, "-o", "tsv"));
            using (var exposed = JsonDocument.Parse(await az.OkAsync("acr", "login", "-n", "myregistry", "--expose-token", "-o", "json")))
                Assert.Equal(3, exposed.RootElement.GetProperty("accessToken").GetString()!.Split('.').Length);
            Assert.Equal(3, (await az.OkAsync("account", "get-access-token", "--query", "accessToken", "-o", "tsv")).Split('.').Length);
            AssertStayedOnLoopback();
        }
        finally
        {
            Report(az);
        }
    }

    /// <summary>
    /// az 2.45 has no <c>acr cache</c> or <c>acr credential-set</c> (they came in 2.46), so the cache's ARM resources are
    /// driven with <c>az rest</c>, az's own ARM client: create, show, list and delete, with the secrets never shown back.
    /// </summary>
    [Fact]
    public async Task Az_rest_manages_cache_rules_and_credential_sets()
    {
        using var az = new AzureCli(Server, fixture.Proxy);
        try
        {
            var setup = await az.RunScriptAsync(fixture.SetupScript(managedIdentity: false));
            Assert.True(setup.ExitCode == 0, setup.Describe());
            // (Not asked with `az acr cache -h` here: for an unknown command az looks up suggestions on aka.ms, off loopback.)

            var id = (await az.OkAsync("acr", "show", "-n", "myregistry", "--query", "id", "-o", "tsv")).Trim();
            const string Api = "?api-version=2023-01-01-preview";
            await az.OkAsync("rest", "--method", "put", "--url", $"{id}/credentialSets/azlogin{Api}", "--body",
                """{"identity":{"type":"SystemAssigned"},"properties":{"loginServer":"docker.io","authCredentials":[{"name":"Credential1","username":"azuser","password":"az-secret-7"}]}}""");
            var set = await az.OkAsync("rest", "--method", "get", "--url", $"{id}/credentialSets/azlogin{Api}");
            Assert.DoesNotContain("az-secret-7", set);
            Assert.Contains("\"loginServer\": \"docker.io\"", set);

            await az.OkAsync("rest", "--method", "put", "--url", $"{id}/cacheRules/azrule1{Api}", "--body",
                new System.Text.Json.Nodes.JsonObject
                {
                    ["properties"] = new System.Text.Json.Nodes.JsonObject
                    {
                        ["sourceRepository"] = "docker.io/library/ubuntu",
                        ["targetRepository"] = "azubuntu",
                        ["credentialSetResourceId"] = $"{id}/credentialSets/azlogin",
                    },
                }.ToJsonString());
            Assert.Equal("azubuntu", (await az.OkAsync("rest", "--method", "get", "--url", $"{id}/cacheRules/azrule1{Api}", "--query", "properties.targetRepository", "-o", "tsv")).Trim());
            Assert.Contains("azrule1", await az.OkAsync("rest", "--method", "get", "--url", $"{id}/cacheRules{Api}", "--query", "value[].name", "-o", "tsv"));
            var overlap = await az.RunAsync("rest", "--method", "put", "--url", $"{id}/cacheRules/azrule2{Api}", "--body",
                """{"properties":{"sourceRepository":"docker.io/library/nginx","targetRepository":"azubuntu"}}""");
            Assert.NotEqual(0, overlap.ExitCode);
            Assert.Contains("azrule1", overlap.Output);

            await az.OkAsync("rest", "--method", "delete", "--url", $"{id}/cacheRules/azrule1{Api}");
            await az.OkAsync("rest", "--method", "delete", "--url", $"{id}/credentialSets/azlogin{Api}");
            Assert.DoesNotContain("azrule1", await az.OkAsync("rest", "--method", "get", "--url", $"{id}/cacheRules{Api}", "--query", "value[].name", "-o", "tsv"));
            AssertStayedOnLoopback();
        }
        finally
        {
            Report(az);
        }
    }

    /// <summary>ACR's anonymous-pull page, line by line, with skopeo standing in for docker pull.</summary>
    private async Task DocumentationFlowAsync(AzureCli az)
    {
        var image = $"{AzureFixture.Repository}:1";
        await az.OkAsync("acr", "update", "--name", "myregistry", "--anonymous-pull-enabled");
        Assert.Equal("true", await az.OkAsync("acr", "show", "-n", "myregistry", "--query", "anonymousPullEnabled"));
        var anonymous = await fixture.SkopeoPullAsync(image, credentials: null);
        Assert.True(anonymous.ExitCode == 0, anonymous.Describe());

        await az.OkAsync("acr", "update", "--name", "myregistry", "--anonymous-pull-enabled", "false");
        Assert.Equal("false", await az.OkAsync("acr", "show", "-n", "myregistry", "--query", "anonymousPullEnabled"));
        var refused = await fixture.SkopeoPullAsync(image, credentials: null);
        Assert.True(refused.ExitCode != 0, "an anonymous pull succeeded with anonymous pull off\n" + refused.Describe());
        Assert.Contains("unauthorized", refused.Output, StringComparison.OrdinalIgnoreCase);
    }

    private void AssertStayedOnLoopback() =>
        Assert.True(fixture.Proxy.NonLoopbackRequests.IsEmpty,
            "az tried to leave loopback: " + string.Join("; ", fixture.Proxy.NonLoopbackRequests));

    private void Report(AzureCli az)
    {
        foreach (var entry in az.Transcript)
            output.WriteLine(entry.Length > 4000 ? entry[..4000] + "…" : entry);
        if (!fixture.Proxy.NonLoopbackRequests.IsEmpty)
            output.WriteLine("NON-LOOPBACK: " + string.Join("; ", fixture.Proxy.NonLoopbackRequests));
    }
}
