// Runs GitHub operations through Octokit (@octokit/core + @octokit/plugin-rest-endpoint-methods).
// Input (stdin, JSON): {baseUrl, token, version, calls: [{operationId, params}]}.
// Output (stdout, JSON): one result per call: {operationId, method, url, status, data} or {..., error}.
import { Octokit } from "@octokit/core";
import { restEndpointMethods } from "@octokit/plugin-rest-endpoint-methods";

const camel = (s) => s.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());

async function main() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const { baseUrl, token, version, calls } = JSON.parse(input);
  const GitHub = Octokit.plugin(restEndpointMethods);
  const octokit = new GitHub({ auth: token, baseUrl });
  const results = [];
  for (const { operationId, params } of calls) {
    const [scope, name] = operationId.split("/");
    const method = octokit.rest[camel(scope)]?.[camel(name)];
    if (typeof method !== "function") {
      results.push({ operationId, error: `Octokit has no method for ${operationId}` });
      continue;
    }
    const endpoint = method.endpoint({ ...params });
    try {
      const response = await method({ ...params, headers: { "x-github-api-version": version } });
      results.push({ operationId, method: endpoint.method, url: endpoint.url, status: response.status, data: response.data });
    } catch (error) {
      results.push({ operationId, method: endpoint.method, url: endpoint.url, status: error.status ?? null, error: String(error.message) });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
