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
        ["acr repository list-deleted"] = [("List repositories that hold soft-deleted content.", "berth acr repository list-deleted -n myregistry")],
        ["acr manifest list"] = [("List a repository's manifests, newest first.", "berth acr manifest list -r myregistry -n samples/hello --orderby time_desc")],
        ["acr manifest list-metadata"] = [("List the attributes of a repository's manifests.", "berth acr manifest list-metadata -r myregistry -n samples/hello --top 10")],
        ["acr manifest show"] = [("Show a tag's manifest exactly as stored.", "berth acr manifest show -r myregistry -n samples/hello:1 --raw")],
        ["acr manifest show-metadata"] = [("Show a tag's attributes (locks, size, times).", "berth acr manifest show-metadata -r myregistry -n samples/hello:1")],
        ["acr manifest update-metadata"] = [("Lock a tag against deletion.", "berth acr manifest update-metadata -r myregistry -n samples/hello:1 --delete-enabled false")],
        ["acr manifest delete"] = [("Delete a manifest and its tags without a prompt.", "berth acr manifest delete -r myregistry -n samples/hello:1 --yes")],
        ["acr manifest list-referrers"] = [("List the signatures and SBOMs that refer to a tag.", "berth acr manifest list-referrers -r myregistry -n samples/hello:1")],
        ["acr manifest list-deleted"] = [("List a repository's soft-deleted manifests.", "berth acr manifest list-deleted -r myregistry -n samples/hello")],
        ["acr manifest list-deleted-tags"] = [("List a repository's soft-deleted tags.", "berth acr manifest list-deleted-tags -r myregistry -n samples/hello")],
        ["acr manifest restore"] = [("Bring back a soft-deleted tag and its manifest.", "berth acr manifest restore -r myregistry -n samples/hello:1 --yes")],
        ["acr config retention show"] = [("Show the retention policy for untagged manifests.", "berth acr config retention show -r myregistry")],
        ["acr config retention update"] = [("Delete untagged manifests after 7 days (Premium).", "berth acr config retention update -r myregistry --status enabled --days 7 --type UntaggedManifests")],
        ["acr config soft-delete show"] = [("Show the soft-delete policy.", "berth acr config soft-delete show -r myregistry")],
        ["acr config soft-delete update"] = [("Keep deleted manifests and tags for 30 days.", "berth acr config soft-delete update -r myregistry --status enabled --days 30 --yes")],
        ["acr import"] =
        [
            ("Import a tag from another registry with its login.", "berth acr import -n myregistry --source registry.example.com/library/app:1.0 -u user -p pass"),
            ("Copy an image from another registry of this server under a new tag.", "berth acr import -n myregistry -r otherregistry --source app:1.0 -t app:stable --force"),
        ],
        ["acr webhook create"] = [("Post push and delete events of samples/* to a receiver.", "berth acr webhook create -r myregistry -n ci --uri https://ci.example.com/hook --actions push delete --scope samples/*:*")],
        ["acr webhook update"] = [("Pause a webhook.", "berth acr webhook update -r myregistry -n ci --status disabled")],
        ["acr webhook show"] = [("Show a webhook (never its URI or headers).", "berth acr webhook show -r myregistry -n ci")],
        ["acr webhook list"] = [("List a registry's webhooks.", "berth acr webhook list -r myregistry -o table")],
        ["acr webhook delete"] = [("Delete a webhook.", "berth acr webhook delete -r myregistry -n ci")],
        ["acr webhook get-config"] = [("Show a webhook's service URI and custom headers.", "berth acr webhook get-config -r myregistry -n ci")],
        ["acr webhook list-events"] = [("Show recent deliveries and the receiver's answers.", "berth acr webhook list-events -r myregistry -n ci -o table")],
        ["acr webhook ping"] = [("Send a ping event to the receiver.", "berth acr webhook ping -r myregistry -n ci")],
        ["acr cache create"] = [("Fill 'ubuntu' from Docker Hub on first pull, with a login.", "berth acr cache create -r myregistry -n ubuntu -s docker.io/library/ubuntu -t ubuntu -c dockerhub")],
        ["acr cache update"] = [("Pull upstream anonymously from now on.", "berth acr cache update -r myregistry -n ubuntu --remove-cred-set")],
        ["acr cache show"] = [("Show a cache rule and its last upstream error.", "berth acr cache show -r myregistry -n ubuntu")],
        ["acr cache list"] = [("List a registry's cache rules.", "berth acr cache list -r myregistry -o table")],
        ["acr cache delete"] = [("Delete a cache rule (the cached content stays).", "berth acr cache delete -r myregistry -n ubuntu --yes")],
        ["acr credential-set create"] = [("Store a Docker Hub login, encrypted.", "berth acr credential-set create -r myregistry -n dockerhub -l docker.io -u hubuser -p hubtoken")],
        ["acr credential-set update"] = [("Replace the stored password.", "berth acr credential-set update -r myregistry -n dockerhub -p newtoken")],
        ["acr credential-set show"] = [("Show a credential set (never its secrets).", "berth acr credential-set show -r myregistry -n dockerhub")],
        ["acr credential-set list"] = [("List a registry's credential sets.", "berth acr credential-set list -r myregistry -o table")],
        ["acr credential-set delete"] = [("Delete a credential set no rule uses.", "berth acr credential-set delete -r myregistry -n dockerhub --yes")],
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
