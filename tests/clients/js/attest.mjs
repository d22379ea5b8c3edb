// Drives @actions/attest against GITHUB_API_URL, as a workflow step would.
// Input (stdin, JSON): {action: "writeAttestation", bundle} or {action: "createStorageRecord", artifact, registry}.
// Environment: GITHUB_API_URL, GITHUB_REPOSITORY (owner/repo), INPUT_TOKEN.
// Output (stdout, JSON): {result} or {error}.
//
// attest() signs with Sigstore (Fulcio and an OIDC token) before it writes, which a test cannot reach;
// its write step is writeAttestation in the package's own store module, loaded here by file because
// the package does not export it. It is the code attest() runs to store the bundle.
import { createStorageRecord } from "@actions/attest";

async function main() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const request = JSON.parse(input);
  const token = process.env.INPUT_TOKEN;
  try {
    if (request.action === "writeAttestation") {
      const store = new URL("./node_modules/@actions/attest/lib/store.js", import.meta.url);
      const { writeAttestation } = await import(store.href);
      const id = await writeAttestation(request.bundle, token, { retry: 0 });
      process.stdout.write(JSON.stringify({ result: id }));
    } else if (request.action === "createStorageRecord") {
      const ids = await createStorageRecord(request.artifact, request.registry, token, 0);
      process.stdout.write(JSON.stringify({ result: ids }));
    } else {
      throw new Error(`unknown action ${request.action}`);
    }
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error.message) }));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
