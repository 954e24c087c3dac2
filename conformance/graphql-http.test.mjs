// The GraphQL over HTTP audit of graphql-http (serverAudits) against a live DLOM server, with node's
// test runner. DLOM_GRAPHQL_URL is the endpoint (tests/test_graphql_http_audit.py starts the app on
// loopback and sets it). Each audit is one test: a MUST audit that errors fails, and so does a SHOULD
// audit that warns (DLOM aims at every MUST and SHOULD). The last line printed is a JSON summary
// {"ok": n, "warn": n, "error": n} of the audit results.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { serverAudits } from "graphql-http";

const url = process.env.DLOM_GRAPHQL_URL;
if (!url) throw new Error("set DLOM_GRAPHQL_URL to the GraphQL endpoint, e.g. http://127.0.0.1:8000/graphql");

const counts = { ok: 0, warn: 0, error: 0 };

for (const audit of serverAudits({ url, fetchFn: fetch })) {
  test(audit.name, async () => {
    const result = await audit.fn();
    counts[result.status] += 1;
    if (result.status !== "ok") {
      const body = result.response ? await result.response.text().catch(() => "") : "";
      assert.fail(`${result.status}: ${result.reason}${body ? ` (response: ${body.slice(0, 300)})` : ""}`);
    }
  });
}

after(() => {
  console.log(JSON.stringify(counts));
});
