// Run by scripts/test.sh against the deployable build (wrangler dev serving the dry run's bundle, the
// last server of the run): a chunked body over the 64 KiB limit is refused 413 while it is still
// arriving. It runs here, last, because under `wrangler dev` the request after one answered before
// its body was read fails ("worker restarted mid-request"), which would break the e2e tests after it.
// wrangler dev's local proxy itself sometimes loses such an answer (the worker logs its 413 within
// milliseconds, the client never gets it: once in a CI run); the check is made on a new connection
// again then, at most four times: a worker that read the whole body first would never answer any.
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";

const BASE = new URL(process.env.SIGHTLINE_BASE ?? "http://127.0.0.1:8787");

/**
 * Streams a beacon-looking body in 4 KiB chunks with no Content-Length over a raw socket, never
 * ending it, until an answer arrives (or 1 MiB is sent); resolves with the answer's status, its
 * error code and how many body bytes had been sent when its first byte came. A raw socket, because
 * the server may close the connection right after answering, and an HTTP client can then report
 * the failed write before the answer it has read.
 */
function openChunkedBody() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(BASE.port), BASE.hostname);
    let received = "";
    let sentThen = -1;
    let sent = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 10 s; ${sent} bytes sent, the body still open`));
    }, 10_000);
    const finish = () => {
      clearTimeout(timer);
      const [head, body = ""] = received.split("\r\n\r\n");
      const status = Number(head.split(" ")[1]);
      // The answer's body may itself be chunked: its JSON is the part between the braces.
      const json = body.slice(body.indexOf("{"), body.lastIndexOf("}") + 1);
      resolve({ status, error: json ? JSON.parse(json).error : undefined, sent: sentThen, answer: received.slice(0, 600) });
    };
    socket.on("data", (chunk) => {
      if (sentThen < 0) sentThen = sent;
      received += chunk;
      if (/\r\n\r\n[\s\S]*\}/.test(received)) {
        socket.destroy();
        finish();
      }
    });
    socket.on("close", () => received && finish());
    socket.on("error", () => {}); // a write after the server closed: the answer decides
    socket.on("connect", () => {
      socket.write(
        `POST /api/collect HTTP/1.1\r\nHost: ${BASE.host}\r\nContent-Type: text/plain\r\n` +
          "Origin: http://localhost\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      const frame = (text) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
      socket.write(frame(`{"v":1,"site":"demo","events":[{"pad":"`));
      const chunk = frame("x".repeat(4096));
      const more = () => {
        if (received || socket.destroyed || sent >= 256 * 1024) return; // 4× the limit, never ended
        sent += 4096;
        if (socket.write(chunk)) setImmediate(more);
        else socket.once("drain", more);
      };
      more();
    });
  });
}

/** The first 413 of up to four tries (each on a new connection), or the last try's failure. */
async function refusedChunkedBody() {
  const failures = [];
  for (let attempt = 1; attempt <= 4; attempt++) {
    try {
      const answer = await openChunkedBody();
      if (answer.status === 413) return answer;
      failures.push(`answered ${answer.answer.slice(0, 200)}`);
    } catch (e) {
      failures.push(e.message);
    }
  }
  throw new Error(`never refused with 413: ${failures.join(" | ")}`);
}

test("a chunked body over 64 KiB is refused 413 body_too_large before it ends", async () => {
  const answer = await refusedChunkedBody();
  assert.equal(answer.status, 413, JSON.stringify(answer));
  if (answer.error === undefined) {
    // The server answers and closes while the body still arrives; the reset a close with unread
    // input sends can overtake the answer's last segment, so the client may get the head without
    // its 63-byte JSON body (seen once in ten CI runs). The head then still names the JSON error.
    assert.match(answer.answer, /\r\ncontent-type: application\/json/i, JSON.stringify(answer));
  } else {
    assert.equal(answer.error, "body_too_large", JSON.stringify(answer));
  }
  assert.ok(answer.sent > 64 * 1024, `answered after ${answer.sent} bytes`);
});
