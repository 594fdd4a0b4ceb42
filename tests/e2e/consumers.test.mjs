// Concurrent consumers: the same queue messages stored by many consumers at once (one site) and by
// one consumer after another (a twin site) must give the same rows. The messages share visitors,
// visits and the day's rollup, arrive out of order and some twice, so concurrent writes collide;
// the consumer's guarded transaction must make the loser read again instead of counting twice.
// Uses `POST /api/admin/test/consume` (served only with TEST_ROUTES=1, as scripts/test.sh runs the
// worker): the queue consumer's own write, on demand.
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { describe, test } from "node:test";
import { ADMIN_TOKEN, BASE, createSite, d1, request, uid } from "./helpers.mjs";

const DEV_LOG = process.env.SIGHTLINE_DEV_LOG;
const MINUTE = 60_000;

/**
 * Queue messages (version 2) for `site`: 4 visitors × 2 visits, each visit's events split over
 * several messages in shuffled order, two messages sent twice. Deterministic for a given `run`.
 */
function messages(site, run, now) {
  const out = [];
  const pages = ["/", "/p/1", "/p/2", "/cart", "/checkout"].map((path, i) => ({
    host: "shop.example",
    path,
    tags: i === 0 ? { referrer_host: "www.google.com", source: "Google", channel: "Organic Search" } : { channel: "Direct" },
  }));
  for (let v = 0; v < 4; v++) {
    for (let s = 0; s < 2; s++) {
      const start = now - 90 * MINUTE + s * 40 * MINUTE + v * MINUTE;
      const events = Array.from({ length: 9 }, (_, i) => ({
        id: `${run}-v${v}s${s}e${i}`,
        ts: start + i * 2 * MINUTE,
        name: i % 4 === 3 ? "cart_add" : "pageview",
        page: i % pages.length,
        ...(i % 4 === 3 ? { props: JSON.stringify({ qty: 1 }) } : {}),
      }));
      // Three beacons per visit, each of three events, taken out of order.
      for (const part of [[6, 7, 8], [0, 1, 2], [3, 4, 5]]) {
        out.push({
          v: 2,
          site,
          received_at: now,
          visitor_key: `vk-${run}-${v}`,
          session_key: `sk-${run}-${v}-${s}`,
          sender: { country: "DE", browser: "Firefox", os: "Linux", device: "desktop" },
          pages,
          events: part.map((i) => events[i]),
        });
      }
    }
  }
  out.push(out[3], out[10]); // redelivered
  return out;
}

/** Stores one message through the consumer's write, retrying as Queues would; returns tries. */
async function consume(message) {
  for (let tries = 1; tries <= 20; tries++) {
    const res = await request(`${BASE}/api/admin/test/consume`, {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify(message),
    });
    const body = await res.json();
    if (res.status === 200) return tries;
    assert.equal(res.status, 500, JSON.stringify(body));
    await new Promise((r) => setTimeout(r, 50 * tries));
  }
  throw new Error("a message was never stored");
}

/**
 * A rollup as compared: values whose counts all came back to zero left out (a stored day keeps
 * them on purpose, holding their place under the cap; which ones linger depends on write order).
 */
function normal(day) {
  const nonZero = (o) => Object.fromEntries(Object.entries(o).filter(([, t]) => Object.values(t).some((x) => x !== 0)));
  const dims = Object.fromEntries(
    Object.entries(day.dims ?? {}).map(([dim, values]) => [dim, nonZero(values)]).filter(([, v]) => Object.keys(v).length > 0),
  );
  return { ...day, hours: nonZero(day.hours ?? {}), dims };
}

/** What D1 holds for a site: rollups by day, and counts of events and visits. */
function stored(site) {
  const rollups = d1(`SELECT day, data FROM rollups WHERE site_id = '${site}' ORDER BY day`).map((r) => [r.day, normal(JSON.parse(r.data))]);
  const [{ n: events }] = d1(`SELECT COUNT(*) AS n FROM events WHERE site_id = '${site}'`);
  const [{ n: visits }] = d1(`SELECT COUNT(*) AS n FROM sessions WHERE site_id = '${site}'`);
  return { rollups, events, visits };
}

describe("concurrent consumers", () => {
  test("many consumers writing overlapping visits and days at once store what one consumer stores", { timeout: 300_000 }, async () => {
    const run = uid("c").slice(-8);
    const [together, alone] = [`conc-a-${run}`, `conc-b-${run}`];
    for (const site of [together, alone]) await createSite(site, ["shop.example"], { timezone: "UTC" });
    const now = Date.now();
    const logStart = DEV_LOG ? statSync(DEV_LOG).size : 0;

    const tries = await Promise.all(messages(together, run, now).map(consume));
    for (const message of messages(alone, run, now)) await consume(message);

    const a = stored(together);
    const b = stored(alone);
    assert.equal(a.events, 72, "4 visitors × 2 visits × 9 events, each once");
    assert.equal(a.visits, 8);
    assert.deepEqual(a, b, "concurrent consumers store exactly what one consumer stores");
    const sum = (field) => a.rollups.reduce((n, [, day]) => n + (day[field] ?? 0), 0);
    assert.deepEqual(
      { pageviews: sum("pageviews"), visits: sum("visits"), bounces: sum("bounces"), duration_ms: sum("duration_ms") },
      { pageviews: 56, visits: 8, bounces: 0, duration_ms: 8 * 16 * MINUTE },
      "each visit once: 7 pageviews, 16 minutes",
    );

    // The collisions really happened: some write lost the guard and read again.
    const retried = tries.some((t) => t > 1) ||
      (DEV_LOG && readFileSync(DEV_LOG, "utf8").slice(logStart).includes("a concurrent write came first"));
    assert.ok(retried, "no write collided: the test did not exercise the guard");
  });

  test("the consumer route answers bad input with a 4xx JSON error", async () => {
    const post = async (body, token = ADMIN_TOKEN) => {
      const res = await request(`${BASE}/api/admin/test/consume`, {
        method: "POST",
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        body,
      });
      return { status: res.status, body: await res.json() };
    };
    const cases = [
      [await post("not a message"), 400, "malformed_json"],
      [await post(JSON.stringify({ v: 2, site: "x", events: [] })), 400, "malformed_json"],
      [await post(JSON.stringify({ v: 9, events: [] })), 400, "malformed_json"],
      [await post("x".repeat(17 * 1024)), 413, "body_too_large"],
      [await post("{}", ""), 401, "unauthorized"],
    ];
    for (const [answer, status, code] of cases) {
      assert.equal(answer.status, status, JSON.stringify(answer));
      assert.equal(answer.body.error, code);
    }
  });
});
