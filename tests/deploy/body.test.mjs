// Run by scripts/test.sh against the deployable build (wrangler dev serving the dry run's bundle, the
// last server of the run): a chunked body over the 64 KiB limit is refused 413 while it is still
// arriving. It runs here, last, because under `wrangler dev` the request after one answered before
// its body was read fails ("worker restarted mid-request"), which would break the e2e tests after it.
import assert from "node:assert/strict";
import http from "node:http";
import { test } from "node:test";

const BASE = process.env.SIGHTLINE_BASE;

/**
 * Streams a beacon-looking body in 4 KiB chunks with no Content-Length and never ends it; resolves
 * with the answer's status, error code and how many bytes had been sent when it came.
 */
function openChunkedBody() {
  return new Promise((resolve, reject) => {
    const req = http.request(`${BASE}/api/collect`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", Origin: "http://localhost", "Transfer-Encoding": "chunked" },
    });
    let sent = 0;
    let answered = false;
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within 20 s; ${sent} bytes sent, the body still open`));
    }, 20_000);
    req.on("response", (res) => {
      answered = true;
      const sentThen = sent;
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode, error: JSON.parse(text).error, sent: sentThen });
      });
    });
    req.on("error", (e) => {
      if (!answered) {
        clearTimeout(timer);
        reject(e);
      }
    });
    req.write(`{"v":1,"site":"demo","events":[{"pad":"`);
    const chunk = "x".repeat(4096);
    // Past the limit, then more as long as no answer has come, up to 1 MiB: the answer must come
    // while the body is open, whatever the platform buffers.
    const more = () => {
      if (answered || sent >= 1024 * 1024) return;
      sent += chunk.length;
      if (req.write(chunk)) setImmediate(more);
      else req.once("drain", more);
    };
    more();
  });
}

test("a chunked body over 64 KiB is refused 413 body_too_large before it ends", async () => {
  assert.ok(BASE, "SIGHTLINE_BASE is set");
  const answer = await openChunkedBody();
  assert.deepEqual([answer.status, answer.error], [413, "body_too_large"], JSON.stringify(answer));
  assert.ok(answer.sent > 64 * 1024, `answered after ${answer.sent} bytes`);
});
