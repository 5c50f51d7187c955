namespace Berth.Cli.Commands;

/// <summary>
/// The Examples section of every command's help, as az prints it: a line saying what the example does, and the command
/// indented below it. Kept in one table so each example can be checked against the parser (every one of them parses).
/// </summary>
public static class CommandExamples
{
    public static IReadOnlyDictionary<string, (string Title, string Line)[]> ByCommand { get; } = new Dictionary<string, (string, string)[]>
    {
        ["acr create"] =
        [
            ("Create a registry with the Standard tier (anonymous pull needs Standard or Premium).", "berth acr create -n myregistry2 --sku Standard"),
            ("Create it in a resource group of your choice.", "berth acr create -n myregistry2 -g team --sku Premium"),
        ],
        ["acr update"] =
        [
            ("Make all content publicly pullable.", "berth acr update --name myregistry --anonymous-pull-enabled"),
            ("Make it private again (true/false, yes/no, on/off and 1/0 all work).", "berth acr update --name myregistry --anonymous-pull-enabled false"),
            ("Allow anonymous pull of chosen repositories only.", "berth acr update -n myregistry --anonymous-pull-enabled true --anonymous-pull-repositories \"public/*\" docs/site"),
            ("Turn on the admin user.", "berth acr update -n myregistry --admin-enabled true"),
        ],
        ["acr show"] =
        [
            ("Show a registry.", "berth acr show -n myregistry"),
            ("Show whether anonymous pull is on.", "berth acr show -n myregistry --query anonymousPullEnabled"),
        ],
        ["acr list"] =
        [
            ("List every registry, as a table.", "berth acr list -o table"),
            ("List the names of the registries in one resource group.", "berth acr list -g berth --query \"[].name\" -o tsv"),
        ],
        ["acr delete"] = [("Delete a registry and everything in it, without a prompt.", "berth acr delete -n myregistry2 --yes")],
        ["acr check-name"] = [("Check whether a registry name is valid and free.", "berth acr check-name -n myregistry2")],
        ["acr show-usage"] = [("Show how much storage a registry uses.", "berth acr show-usage -n myregistry -o table")],
        ["acr activity-log"] = [("Show the last 10 changes of a registry's settings.", "berth acr activity-log -n myregistry --top 10 -o table")],
        ["acr check-access"] =
        [
            ("What may a caller without credentials do on a repository?", "berth acr check-access -n myregistry --repository public/base --anonymous"),
            ("What may the token 'cireader' do there, and which scope-map line grants it?", "berth acr check-access -n myregistry --repository team/app --token cireader"),
        ],
        ["acr credential show"] = [("Show the admin user's name and passwords.", "berth acr credential show -n myregistry")],
        ["acr credential renew"] = [("Replace the admin user's second password.", "berth acr credential renew -n myregistry --password-name password2")],
        ["acr token create"] =
        [
            ("Create a token that may pull and read one repository, with a scope map of its own.", "berth acr token create -n cireader -r myregistry --repository samples/hello content/read metadata/read"),
            ("Create a token for an existing scope map, without passwords yet.", "berth acr token create -n reader -r myregistry --scope-map _repositories_pull --no-passwords"),
        ],
        ["acr token update"] =
        [
            ("Disable a token.", "berth acr token update -n cireader -r myregistry --status disabled"),
            ("Bind a token to another scope map.", "berth acr token update -n cireader -r myregistry --scope-map _repositories_pull"),
        ],
        ["acr token show"] = [("Show a token.", "berth acr token show -n cireader -r myregistry")],
        ["acr token list"] = [("List a registry's tokens, as a table.", "berth acr token list -r myregistry -o table")],
        ["acr token delete"] = [("Delete a token without a prompt.", "berth acr token delete -n cireader -r myregistry --yes")],
        ["acr token credential generate"] =
        [
            ("Generate both passwords of a token, valid for 30 days.", "berth acr token credential generate -n cireader -r myregistry --expiration-in-days 30"),
            ("Replace password2 only.", "berth acr token credential generate -n cireader -r myregistry --password2"),
        ],
        ["acr token credential delete"] = [("Delete a token's password1.", "berth acr token credential delete -n cireader -r myregistry --password1")],
        ["acr scope-map create"] =
        [
            ("Create a scope map that lets its tokens push and pull one repository.", "berth acr scope-map create -n pushers -r myregistry --repository samples/hello content/write content/read --description \"push samples/hello\""),
            ("Cover every repository under a prefix.", "berth acr scope-map create -n teamread -r myregistry --repository \"team/*\" content/read metadata/read"),
        ],
        ["acr scope-map update"] = [("Add read access to another repository.", "berth acr scope-map update -n pushers -r myregistry --add-repository samples/other content/read")],
        ["acr scope-map show"] = [("Show a scope map's actions.", "berth acr scope-map show -n pushers -r myregistry --query actions")],
        ["acr scope-map list"] = [("List the scope maps of a registry, the system ones included.", "berth acr scope-map list -r myregistry -o table")],
        ["acr scope-map delete"] = [("Delete a scope map without a prompt.", "berth acr scope-map delete -n pushers -r myregistry --yes")],
        ["acr repository list"] = [("List the repositories of a registry.", "berth acr repository list -n myregistry -o tsv")],
        ["acr repository show"] =
        [
            ("Show a repository's attributes and pull counts.", "berth acr repository show -n myregistry --repository samples/hello"),
            ("Show one image.", "berth acr repository show -n myregistry --image samples/hello:1"),
        ],
        ["acr repository show-tags"] = [("Show a repository's tags with their details, newest first.", "berth acr repository show-tags -n myregistry --repository samples/hello --detail --orderby time_desc")],
        ["acr repository show-manifests"] = [("Show a repository's manifests.", "berth acr repository show-manifests -n myregistry --repository samples/hello -o table")],
        ["acr repository update"] = [("Lock an image against deletion and overwrites.", "berth acr repository update -n myregistry --image samples/hello:1 --delete-enabled false --write-enabled false")],
        ["acr repository delete"] =
        [
            ("Delete a repository without a prompt.", "berth acr repository delete -n myregistry --repository samples/hello --yes"),
            ("Delete one image (its manifest and every tag on it).", "berth acr repository delete -n myregistry --image samples/hello:1 --yes"),
        ],
        ["acr repository untag"] = [("Remove a tag; the manifest stays.", "berth acr repository untag -n myregistry --image samples/hello:1")],
        ["acr login"] =
        [
            ("Store a token for docker, podman and skopeo, for the server's address.", "berth acr login -n 127.0.0.1:5000"),
            ("Log in with the admin user's name and password.", "berth acr login -n myregistry -u myregistry -p \"$(jq -r .password data/admin-credentials.json)\""),
            ("Print an access token instead of storing it.", "berth acr login -n myregistry --expose-token"),
        ],
        ["acr logout"] = [("Remove the stored credential from every file docker, podman and skopeo read.", "berth acr logout -n 127.0.0.1:5000")],
        ["gc"] =
        [
            ("See what garbage collection would remove, and what the grace period still holds back.", "berth gc --dry-run"),
            ("Collect one registry now.", "berth gc -n myregistry"),
        ],
        ["fsck"] =
        [
            ("Check every stored blob and manifest.", "berth fsck"),
            ("Check, and move corrupt files aside to <data>/quarantine/.", "berth fsck --quarantine"),
        ],
        ["config set"] = [("Create registries in resource group 'team' when -g is not given.", "berth config set defaults.group=team")],
        ["config get"] = [("Show berth's settings.", "berth config get")],
        ["config unset"] = [("Go back to the server's default resource group.", "berth config unset defaults.group")],
    };

    /// <summary>Appends each command's examples to its description, which System.CommandLine prints at the top of --help.</summary>
    public static void Apply(Command root)
    {
        foreach (var (path, command) in Leaves(root, ""))
        {
            if (!ByCommand.TryGetValue(path, out var examples)) continue;
            var text = new StringBuilder(command.Description).Append("\n\nExamples");
            foreach (var (title, line) in examples) text.Append("\n    ").Append(title).Append("\n        ").Append(line);
            command.Description = text.ToString();
        }
    }

    /// <summary>Every command without subcommands, with its path below the root ("acr token create").</summary>
    public static IEnumerable<(string Path, Command Command)> Leaves(Command command, string path)
    {
        if (command.Subcommands.Count == 0)
        {
            yield return (path, command);
            yield break;
        }
        foreach (var child in command.Subcommands)
        {
            foreach (var leaf in Leaves(child, path.Length == 0 ? child.Name : $"{path} {child.Name}")) yield return leaf;
        }
    }
}
