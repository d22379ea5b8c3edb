// The fleet's load: deployment-trackers posting deployment records on a schedule that does not wait
// for the server (open loop), so a slow server shows as latency instead of as a lower offered rate.
//
// Each tracker holds its own keep-alive connections and token, and sends `burst` records every
// `burst / rate` seconds: a client-side token bucket of that rate and burst, refilled while idle.
// Latency runs from when a record was due, so time queued in the tracker counts.
//
// Input: one JSON object on stdin. Output: one JSON object on stdout.
import http from "node:http";
import { randomBytes } from "node:crypto";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));
const { base, org, repository, tokens, rate, burst, seconds, connections, deployments } = input;
const url = new URL(base);
const path = `/orgs/${org}/artifacts/metadata/deployment-record`;
const period = (1000 * burst) / rate;
const started = performance.now();
const deadline = started + 1000 * seconds;

const statuses = {};
const due = []; // ms from due time to the answer, per answered record
const sent = []; // ms from send to the answer
let offered = 0;
let unsent = 0;
let transportErrors = 0;
let lastAnswer = started;

function body(tracker, n) {
  return JSON.stringify({
    name: "app",
    digest: "sha256:" + randomBytes(32).toString("hex"),
    version: "1.0.0",
    status: "deployed",
    logical_environment: "production",
    physical_environment: "eu-west-1",
    cluster: `fleet-${tracker}`,
    deployment_name: `svc-${n % deployments}`,
    github_repository: repository,
    tags: { team: "payments" },
    runtime_risks: ["internet-exposed"],
  });
}

function post(agent, token, payload, dueAt) {
  return new Promise((resolve) => {
    const sentAt = performance.now();
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/vnd.github+json",
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
      },
      (response) => {
        response.resume();
        response.on("end", () => {
          const now = performance.now();
          statuses[response.statusCode] = (statuses[response.statusCode] || 0) + 1;
          due.push(now - dueAt);
          sent.push(now - sentAt);
          lastAnswer = now;
          resolve();
        });
      },
    );
    request.on("error", () => {
      transportErrors += 1;
      resolve();
    });
    request.end(payload);
  });
}

async function tracker(index) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const token = tokens[index % tokens.length];
  const queue = [];
  const inFlight = new Set();
  let n = 0;
  const pump = () => {
    while (inFlight.size < connections && queue.length) {
      const [payload, dueAt] = queue.shift();
      const done = post(agent, token, payload, dueAt).then(() => {
        inFlight.delete(done);
        pump();
      });
      inFlight.add(done);
    }
  };
  // Trackers start spread over one period, as independent clusters would.
  let next = started + Math.random() * period;
  while (next < deadline) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (let i = 0; i < burst; i += 1) queue.push([body(index, n++), next]);
    offered += burst;
    pump();
    next += period;
  }
  // The last burst gets one period to drain; what is still queued in the tracker then is not sent,
  // so the run ends on time and the count says how far behind the server fell.
  while (inFlight.size || queue.length) {
    if (queue.length && performance.now() > deadline + period) {
      unsent += queue.length;
      queue.length = 0;
    }
    await Promise.race([...inFlight, new Promise((resolve) => setTimeout(resolve, 50))]);
  }
  agent.destroy();
}

function percentile(values, p) {
  if (!values.length) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

await Promise.all(Array.from({ length: input.trackers }, (_, i) => tracker(i)));
const answered = due.length;
const round = (x) => Math.round(x * 10) / 10;
process.stdout.write(JSON.stringify({
  offered,
  offered_per_s: round(offered / seconds),
  answered,
  unsent,
  sustained_per_s: round(answered / ((Math.max(lastAnswer, deadline) - started) / 1000)),
  statuses,
  transport_errors: transportErrors,
  p50_ms: round(percentile(due, 0.5)),
  p99_ms: round(percentile(due, 0.99)),
  max_ms: round(percentile(due, 1)),
  p99_service_ms: round(percentile(sent, 0.99)),
}) + "\n");
