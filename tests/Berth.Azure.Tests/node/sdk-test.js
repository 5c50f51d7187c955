// The Azure SDK's ContainerRegistryClient / ContainerRegistryContentClient (@azure/container-registry) against Berth.
// Run by NodeSdkTests.cs with NODE_EXTRA_CA_CERTS set to Berth's CA. Configuration comes from the environment:
//   BERTH_ENDPOINT       https://localhost:<port> (the SDK refuses http)
//   BERTH_MODE           anonymous | anonymous-refused | authenticated
//   BERTH_REPOSITORY     repository holding BERTH_TAG
//   BERTH_TAG            tag to read
//   BERTH_TOKEN_ENDPOINT, BERTH_CLIENT_ID, BERTH_CLIENT_SECRET, BERTH_AUDIENCE   (authenticated only)
// Prints one line per finding and exits 0 when everything matched expectations, 1 otherwise.
"use strict";
const crypto = require("node:crypto");
const { ContainerRegistryClient, ContainerRegistryContentClient } = require("@azure/container-registry");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

/**
 * A TokenCredential that signs in to Berth's ADFS-style endpoint with the owner service principal
 * (client_credentials). The SDK exchanges the token it returns at /oauth2/exchange for an ACR refresh token.
 */
class BerthServicePrincipalCredential {
  constructor(tokenEndpoint, clientId, clientSecret) {
    this.tokenEndpoint = tokenEndpoint;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
  }

  async getToken(scopes) {
    const scope = Array.isArray(scopes) ? scopes.join(" ") : scopes;
    const response = await fetch(this.tokenEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: this.clientId,
        client_secret: this.clientSecret,
        scope,
      }),
    });
    if (!response.ok) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
    const body = await response.json();
    return { token: body.access_token, expiresOnTimestamp: Date.now() + body.expires_in * 1000 };
  }
}

async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function exercise(endpoint, credential, options, repository, tag) {
  const client = credential
    ? new ContainerRegistryClient(endpoint, credential, options)
    : new ContainerRegistryClient(endpoint, options);
  const repositories = [];
  for await (const name of client.listRepositoryNames()) repositories.push(name);
  console.log(`repositories: ${repositories.join(",")}`);
  if (!repositories.includes(repository)) throw new Error(`${repository} is not listed`);

  const tags = [];
  for await (const t of client.getArtifact(repository, tag).listTagProperties()) tags.push(t.name);
  console.log(`tags: ${tags.join(",")}`);
  if (!tags.includes(tag)) throw new Error(`tag ${tag} is not listed`);

  const properties = await client.getArtifact(repository, tag).getManifestProperties();
  console.log(`manifest-properties: ${properties.digest}`);

  // The content client has no anonymous constructor; without a credential it takes the SDK's anonymous token path.
  const content = new ContainerRegistryContentClient(endpoint, repository, credential, options);
  const manifest = await content.getManifest(tag);
  console.log(`manifest: ${manifest.digest} ${manifest.mediaType}`);
  if (manifest.digest !== properties.digest) throw new Error("manifest digest differs from its properties");
  const layer = manifest.manifest.layers[0];
  const blob = await content.downloadBlob(layer.digest);
  const bytes = await readAll(blob.content);
  const digest = "sha256:" + crypto.createHash("sha256").update(bytes).digest("hex");
  console.log(`blob: ${digest} bytes=${bytes.length}`);
  const size = layer.sizeInBytes ?? layer.size;
  if (digest !== layer.digest || bytes.length !== size) throw new Error(`blob does not match its descriptor ${JSON.stringify(layer)}`);
}

async function main() {
  const endpoint = env("BERTH_ENDPOINT");
  const mode = env("BERTH_MODE");
  const repository = env("BERTH_REPOSITORY");
  const tag = env("BERTH_TAG");
  if (mode === "authenticated") {
    const credential = new BerthServicePrincipalCredential(env("BERTH_TOKEN_ENDPOINT"), env("BERTH_CLIENT_ID"), env("BERTH_CLIENT_SECRET"));
    await exercise(endpoint, credential, { audience: env("BERTH_AUDIENCE") }, repository, tag);
  } else if (mode === "anonymous") {
    await exercise(endpoint, undefined, {}, repository, tag);
  } else if (mode === "anonymous-refused") {
    try {
      await exercise(endpoint, undefined, {}, repository, tag);
    } catch (error) {
      console.log(`refused: ${error.statusCode ?? "?"} ${error.message.split("\n")[0]}`);
      if (error.statusCode !== 401) throw error;
      const content = new ContainerRegistryContentClient(endpoint, repository, undefined, {});
      try {
        await content.getManifest(tag);
      } catch (contentError) {
        console.log(`manifest refused: ${contentError.statusCode ?? "?"}`);
        if (contentError.statusCode !== 401) throw contentError;
        console.log("OK");
        return;
      }
      throw new Error("the manifest was served anonymously with anonymous pull off");
    }
    throw new Error("anonymous listing succeeded with anonymous pull off");
  } else {
    throw new Error(`unknown BERTH_MODE ${mode}`);
  }
  console.log("OK");
}

main().catch((error) => {
  console.log(`FAILED: ${error.stack ?? error}`);
  process.exit(1);
});
