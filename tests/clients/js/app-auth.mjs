// Acts as a GitHub App through @octokit/auth-app with Octokit: the app's JWT finds the installation,
// an installation token (made and refreshed by auth-app) writes a deployment record and an attestation.
// Input (stdin, JSON): {baseUrl, appId, privateKey, org, owner, repo, record, bundle}.
// Output (stdout, JSON): what each step answered.
import { createAppAuth } from "@octokit/auth-app";
import { Octokit } from "@octokit/core";
import { restEndpointMethods } from "@octokit/plugin-rest-endpoint-methods";

async function main() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const { baseUrl, appId, privateKey, org, owner, repo, record, bundle } = JSON.parse(input);
  const GitHub = Octokit.plugin(restEndpointMethods);
  const asApp = new GitHub({ authStrategy: createAppAuth, auth: { appId, privateKey }, baseUrl });
  const app = await asApp.rest.apps.getAuthenticated();
  const installation = await asApp.rest.apps.getOrgInstallation({ org });
  const asInstallation = new GitHub({
    authStrategy: createAppAuth,
    auth: { appId, privateKey, installationId: installation.data.id },
    baseUrl,
  });
  const written = await asInstallation.request("POST /orgs/{org}/artifacts/metadata/deployment-record", {
    org,
    ...record,
  });
  const attested = await asInstallation.rest.repos.createAttestation({ owner, repo, bundle });
  const repositories = await asInstallation.rest.apps.listReposAccessibleToInstallation();
  process.stdout.write(
    JSON.stringify({
      app: app.data.slug,
      installation: installation.data.id,
      record: { status: written.status, digest: written.data.deployment_records[0].digest },
      attestation: { status: attested.status, id: attested.data.id },
      repositories: repositories.data.repositories.map((r) => r.full_name),
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
