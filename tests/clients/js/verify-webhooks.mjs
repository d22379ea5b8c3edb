// Verifies and parses webhook deliveries the way a GitHub receiver does, with @octokit/webhooks:
// reads [{secret, event, id, body, signature}] on stdin, prints [{verified, parsed, error}].
import { Webhooks } from "@octokit/webhooks";

const input = JSON.parse(await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
}));

const results = [];
for (const item of input) {
  const webhooks = new Webhooks({ secret: item.secret });
  let seen = null;
  webhooks.onAny((event) => { seen = { name: event.name, action: event.payload.action ?? null }; });
  try {
    const verified = await webhooks.verify(item.body, item.signature);
    if (verified) {
      await webhooks.verifyAndReceive({
        id: item.id, name: item.event, payload: item.body, signature: item.signature,
      });
    }
    results.push({ verified, parsed: seen, error: null });
  } catch (error) {
    results.push({ verified: false, parsed: seen, error: String(error) });
  }
}
process.stdout.write(JSON.stringify(results));
