// The Azure management SDK (@azure/arm-containerregistry) signed in with @azure/identity's ClientSecretCredential,
// both unchanged, against Berth. Run by NodeSdkTests.cs with NODE_EXTRA_CA_CERTS set to Berth's CA.
// MSAL reads the ADFS authority's discovery document (/adfs/.well-known/openid-configuration, whose jwks_uri must
// answer) before it asks /adfs/oauth2/token for a token. Configuration comes from the environment:
//   BERTH_ENDPOINT                          https://127.0.0.1:<port> (ARM endpoint and authority host)
//   BERTH_CLIENT_ID, BERTH_CLIENT_SECRET    the owner service principal
//   BERTH_SUBSCRIPTION, BERTH_RESOURCE_GROUP, BERTH_REGISTRY, BERTH_REPOSITORY
// Prints one line per finding; exits 0 when every step answered, 1 on the first failure.
"use strict";
const { ClientSecretCredential } = require("@azure/identity");
const { ContainerRegistryManagementClient } = require("@azure/arm-containerregistry");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

/** The data plane's anonymous token request, as docker and skopeo make it: 200 only while anonymous pull is on. */
async function anonymousTokenStatus(endpoint, repository) {
  const response = await fetch(`${endpoint}/oauth2/token?service=127.0.0.1&scope=repository:${repository}:pull`);
  await response.arrayBuffer();
  return response.status;
}

/** The token's password used as docker login would: Basic on the token service, refused when the scope map says no. */
async function tokenStatus(endpoint, username, password, repository, action) {
  const response = await fetch(`${endpoint}/oauth2/token?service=127.0.0.1&scope=repository:${repository}:${action}`, {
    headers: { Authorization: "Basic " + Buffer.from(`${username}:${password}`).toString("base64") },
  });
  const body = await response.json();
  const access = body.access_token ? JSON.parse(Buffer.from(body.access_token.split(".")[1], "base64url")).access : [];
  return `${response.status} ${JSON.stringify(access.flatMap((a) => a.actions))}`;
}

async function main() {
  const endpoint = env("BERTH_ENDPOINT");
  const [group, registry, repository] = [env("BERTH_RESOURCE_GROUP"), env("BERTH_REGISTRY"), env("BERTH_REPOSITORY")];
  // ADFS shape: the tenant is "adfs", so the authority is <endpoint>/adfs, and MSAL skips AAD instance discovery.
  const credential = new ClientSecretCredential("adfs", env("BERTH_CLIENT_ID"), env("BERTH_CLIENT_SECRET"), {
    authorityHost: endpoint,
    disableInstanceDiscovery: true,
  });
  const client = new ContainerRegistryManagementClient(credential, env("BERTH_SUBSCRIPTION"), { endpoint });

  const shown = await client.registries.get(group, registry);
  console.log(`get: ${shown.name} sku=${shown.sku.name} loginServer=${shown.loginServer} anonymousPullEnabled=${shown.anonymousPullEnabled}`);

  const on = await client.registries.update(group, registry, { anonymousPullEnabled: true });
  console.log(`update on: anonymousPullEnabled=${on.anonymousPullEnabled}`);
  console.log(`anonymous token while on: ${await anonymousTokenStatus(endpoint, repository)}`);
  const off = await client.registries.update(group, registry, { anonymousPullEnabled: false });
  console.log(`update off: anonymousPullEnabled=${off.anonymousPullEnabled}`);
  console.log(`anonymous token while off: ${await anonymousTokenStatus(endpoint, repository)}`);
  console.log(`get after: anonymousPullEnabled=${(await client.registries.get(group, registry)).anonymousPullEnabled}`);

  const scopeMap = await client.scopeMaps.create(group, registry, "sdk-readers", {
    description: "read one repository",
    actions: [`repositories/${repository}/content/read`, `repositories/${repository}/metadata/read`],
  });
  console.log(`scope map: ${scopeMap.name} actions=${scopeMap.actions.join(",")}`);
  const scopeMaps = [];
  for await (const item of client.scopeMaps.list(group, registry)) scopeMaps.push(item.name);
  console.log(`scope maps listed: ${scopeMaps.includes("sdk-readers") ? "sdk-readers" : "missing"}`);

  const token = await client.tokens.create(group, registry, "sdk-reader", { scopeMapId: scopeMap.id, status: "enabled" });
  console.log(`token: ${token.name} status=${token.status} scopeMap=${token.scopeMapId.split("/").pop()}`);
  const generated = await client.registries.generateCredentials(group, registry, { tokenId: token.id, name: "password1" });
  const password = generated.passwords.find((p) => p.name === "password1").value;
  console.log(`token pull: ${await tokenStatus(endpoint, generated.username, password, repository, "pull")}`);
  console.log(`token push: ${await tokenStatus(endpoint, generated.username, password, repository, "push")}`);

  const disabled = await client.tokens.update(group, registry, "sdk-reader", { status: "disabled" });
  console.log(`token disabled: status=${disabled.status}`);
  console.log(`disabled token pull: ${await tokenStatus(endpoint, generated.username, password, repository, "pull")}`);

  await client.tokens.delete(group, registry, "sdk-reader");
  await client.scopeMaps.delete(group, registry, "sdk-readers");
  const remaining = [];
  for await (const item of client.tokens.list(group, registry)) remaining.push(item.name);
  console.log(`tokens after delete: [${remaining.join(",")}]`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.log(`failed: ${error.code ?? ""} ${error.statusCode ?? ""} ${error.message}`);
    process.exit(1);
  },
);
