// The collector's gate over HTTP: who may send (an allowed Origin, or the site's write token), which
// events a site takes (pages on its domains), what it costs to knock with unknown site ids (rate
// limited before D1), and CORS (Retry-After readable by the
// SDK; no CORS on the admin API).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { ADMIN_TOKEN, BASE, DESKTOP_UA, ORIGIN, beacon, collect, createSite, d1, event, eventually, request, uid } from "./helpers.mjs";

const SITE = "t-gate";
before(() => createSite(SITE));

/** POSTs a beacon with exactly these headers (no default Origin). */
async function post(body, headers = {}) {
  const res = await request(`${BASE}/api/collect`, {
    method: "POST",
    headers: { "Content-Type": "text/plain", "User-Agent": DESKTOP_UA, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

/** A /24 of its own for one test: the per-address limits of other tests never meet it. */
const address = () => `198.51.${Math.floor(Math.random() * 250)}.9`;

describe("gate: who may send", () => {
  test("a beacon without an Origin needs the site's write token", async () => {
    const body = () => beacon(SITE, [event()]);
    const none = await post(body());
    assert.deepEqual([none.status, none.body.error], [403, "origin_required"], JSON.stringify(none.body));
    const opaque = await post(body(), { Origin: "null" });
    assert.deepEqual([opaque.status, opaque.body.error], [403, "origin_required"], JSON.stringify(opaque.body));
    const server = await post(body(), { Authorization: `Bearer write-${SITE}` });
    assert.equal(server.status, 202, JSON.stringify(server.body));
    const wrong = await post(body(), { Authorization: "Bearer not-the-write-token" });
    assert.deepEqual([wrong.status, wrong.body.error], [401, "unauthorized"]);
    const browser = await post(body(), { Origin: "http://www.localhost:8080" });
    assert.equal(browser.status, 202, JSON.stringify(browser.body));
  });

  test("an event whose page is not on the site's domains is dropped as foreign_host; its neighbours stay", async () => {
    const good = [event({ url: "http://localhost/home" }), event({ url: "https://shop.localhost/sub", name: "cart_add" })];
    const foreign = [event({ url: "https://evil.example/localhost" }), event({ url: "https://localhost.evil.example/" })];
    const res = await collect(beacon(SITE, [good[0], foreign[0], good[1], foreign[1]]));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(res.body, { accepted: 2, dropped: 2, reasons: { foreign_host: 2 } });
    // The write token does not open the site to other hosts either.
    const server = await collect(beacon(SITE, [event({ url: "https://evil.example/" })]), {
      headers: { Authorization: `Bearer write-${SITE}` },
    });
    assert.deepEqual(server.body, { accepted: 0, dropped: 1, reasons: { foreign_host: 1 } });
    const ids = [...good, ...foreign].map((e) => `'${e.id}'`).join(",");
    const stored = () => d1(`SELECT event_id FROM events WHERE site_id = '${SITE}' AND event_id IN (${ids})`).map((r) => r.event_id);
    // The good events and the foreign ones travelled in one message: once the good are stored, so
    // would the foreign be.
    await eventually(() => stored().length >= 2, 20000, "the good events stored");
    assert.deepEqual(stored().sort(), good.map((e) => e.id).sort());
  });
});

describe("gate: unknown sites", () => {
  test("random site ids from one address are rate limited before they reach D1", async () => {
    const ip = address();
    let limited;
    let sent = 0;
    let refused = 0;
    // The limiter counts in fixed one-minute windows: within two windows' worth, one must overflow.
    const lane = async () => {
      while (!limited && sent < 1300) {
        sent++;
        const res = await collect(beacon(`nobody-${uid("")}`, [event()]), { headers: { "CF-Connecting-IP": ip } });
        if (res.status === 429) limited = res;
        else {
          assert.deepEqual([res.status, res.body.error], [403, "unknown_site"]);
          refused++;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    assert.ok(limited, `the lookups were limited (${refused} unknown ids refused, none limited)`);
    assert.equal(limited.body.error, "rate_limited");
    // A site the isolate remembers costs no look-up: the same address still reaches it.
    assert.equal((await collect(beacon(SITE, [event()]), { headers: { "CF-Connecting-IP": ip } })).status, 202);
  });
  // That a flood of random ids cannot push the real sites out of the cache is core's rule
  // (`gate::SiteCache`, cargo tests): showing it here would take over 10 000 requests.
});

// Bodies bounded while they are read (a chunked body refused 413 before it ends) are proven against
// the deployable build at the end of `npm test` (tests/deploy/body.test.mjs): under `wrangler dev`
// the request after such an answer breaks, which would fail the tests after it here.

describe("gate: CORS", () => {
  test("collect answers let the page read Retry-After", async () => {
    const res = await post(beacon(SITE, [event()]), { Origin: ORIGIN });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /\bRetry-After\b/i);
    const refused = await post(beacon("nobody", [event()]), { Origin: ORIGIN });
    assert.equal(refused.status, 403);
    assert.match(refused.headers.get("access-control-expose-headers") ?? "", /\bRetry-After\b/i);
  });

  test("the admin API answers no CORS: no page on another origin can call it", async () => {
    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}`, Origin: "https://evil.example" };
    const list = await request(`${BASE}/api/admin/tenants`, { headers: auth });
    assert.equal(list.status, 200);
    assert.equal(list.headers.get("access-control-allow-origin"), null);
    const preflight = await request(`${BASE}/api/admin/tenants`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization" },
    });
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
    assert.equal(preflight.headers.get("access-control-allow-headers"), null);
    // The stats API stays readable from any origin: it takes a bearer token, never a cookie.
    const stats = await request(`${BASE}/api/sites/${SITE}/stats/overview`, { headers: { Authorization: "Bearer dev-demo-token", Origin: "https://dash.example" } });
    assert.equal(stats.headers.get("access-control-allow-origin"), "*");
  });
});
