// Submits a dependency snapshot with @github/dependency-submission-toolkit, as a workflow step would.
// Input (stdin, JSON): {manifest, packages: [purl, ...]} (each package a direct runtime dependency).
// Environment: GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF, GITHUB_JOB, GITHUB_RUN_ID, INPUT_TOKEN.
// The toolkit reports through @actions/core workflow commands on stdout; the caller reads them.
import { Manifest, PackageCache, Snapshot, submitSnapshot } from "@github/dependency-submission-toolkit";

async function main() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const { manifest, packages } = JSON.parse(input);
  const cache = new PackageCache();
  const target = new Manifest(manifest, manifest);
  for (const purl of packages) target.addDirectDependency(cache.package(purl), "runtime");
  const snapshot = new Snapshot({ name: "waybill-conformance", url: "https://example.com/detector", version: "1.0.0" });
  snapshot.addManifest(target);
  await submitSnapshot(snapshot);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
