// The collector's contract over HTTP: 202 with counts for beacons, 4xx JSON errors for bad input,
// good events surviving bad neighbours, resends counted once, and the stats API's auth.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { BASE, DESKTOP_UA, ORIGIN, beacon, collect, createSite, d1, dayOf, event, eventually, request, stats, storedEvents, uid } from "./helpers.mjs";

const SITE = "t-collect";
before(() => createSite(SITE));

const assertError = (res, status, code) => {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error, code);
  assert.equal(typeof res.body.message, "string");
  assert.ok(res.body.message.length > 5);
};

describe("collect: bad input gets a 4xx JSON error", () => {
  test("malformed JSON -> 400 malformed_json", async () => {
    assertError(await collect("not json"), 400, "malformed_json");
    assertError(await collect('{"v":1,"site":"x","events":{}}'), 400, "malformed_json");
  });
  test("wrong media type -> 415", async () => {
    assertError(await collect(beacon(SITE, [event()]), { type: "image/png" }), 415, "unsupported_media_type");
  });
  test("oversize body -> 413", async () => {
    assertError(await collect("a".repeat(200_000)), 413, "body_too_large");
    const big = beacon(SITE, [event({ props: { blob: "x".repeat(70_000) } })]);
    assertError(await collect(big), 413, "body_too_large");
  });
  test("envelope errors -> 400 with their codes", async () => {
    assertError(await collect(beacon(SITE, [event()], { v: 9 })), 400, "unsupported_version");
    assertError(await collect(beacon("bad site!", [event()])), 400, "invalid_site");
    assertError(await collect(beacon(SITE, [])), 400, "empty_batch");
    const many = Array.from({ length: 101 }, () => event());
    assertError(await collect(beacon(SITE, many)), 400, "too_many_events");
  });
  test("unknown site and foreign origin -> 403", async () => {
    assertError(await collect(beacon("no-such-site", [event()])), 403, "unknown_site");
    const foreign = await collect(beacon(SITE, [event()]), { headers: { Origin: "https://evil.example" } });
    assertError(foreign, 403, "origin_not_allowed");
  });
  test("unknown API path -> 404, wrong method -> 405, JSON both", async () => {
    const missing = await fetch(`${BASE}/api/nope`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error, "not_found");
    const get = await fetch(`${BASE}/api/collect`);
    assert.equal(get.status, 405);
    assert.equal((await get.json()).error, "method_not_allowed");
  });
});

describe("collect: good events are kept", () => {
  test("good events survive bad neighbours and are counted in the answer", async () => {
    const good = [event({ url: "http://localhost/mixed" }), event({ name: "signup_completed" })];
    const bad = [{ ...event(), id: "has space" }, { ...event(), ts: "soon" }, 42, { ...event(), url: "javascript:x" }];
    const res = await collect(beacon(SITE, [good[0], ...bad, good[1]]), { type: "application/json; charset=utf-8" });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body, {
      accepted: 2,
      dropped: 4,
      reasons: { invalid_id: 1, invalid_timestamp: 1, not_an_object: 1, invalid_url: 1 },
    });
    const ids = good.map((e) => `'${e.id}'`).join(",");
    const q = `SELECT event_id FROM events WHERE site_id = '${SITE}' AND event_id IN (${ids})`;
    await eventually(() => d1(q).length === 2, 20000, "both good events stored");
  });

  test("a resent batch is not counted twice", async () => {
    const site = await createSite(`t-dedupe-${uid("")}`.slice(0, 40));
    const body = beacon(site, [event({ url: "http://localhost/once" }), event({ name: "cart_add" })]);
    // Both answers say "queued"; storage keeps each event id once.
    for (let i = 0; i < 3; i++) assert.deepEqual((await collect(body)).body, { accepted: 2, dropped: 0, reasons: {} });
    const twice = beacon(site, [body.events[0], body.events[0]]);
    assert.deepEqual((await collect(twice)).body, { accepted: 1, dropped: 1, reasons: { duplicate: 1 } });
    // A later beacon: once it is stored, the resends before it have been consumed too.
    const sentinel = event({ name: "sentinel" });
    await collect(beacon(site, [sentinel], { visitor_id: body.visitor_id, session_id: body.session_id }));
    await eventually(() => d1(`SELECT 1 FROM events WHERE event_id = '${sentinel.id}'`).length === 1, 20000, "sentinel");
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await storedEvents(site, 3), 3);
    const overview = await stats(site, "overview");
    assert.equal(overview.body.pageviews, 1);
    assert.equal(overview.body.visits, 1);
    assert.equal(overview.body.bounce_rate, 0, "a visit with an interactive event is no bounce");
  });

  test("offline replays keep their client time; far-off times become the receive time", async () => {
    const site = await createSite(`t-time-${uid("")}`.slice(0, 40));
    const twoDaysAgo = Date.now() - 2 * 86400_000;
    const res = await collect(beacon(site, [event({ ts: twoDaysAgo }), event({ ts: 1_000 })]));
    assert.equal(res.body.accepted, 2);
    await storedEvents(site, 2);
    const rows = d1(`SELECT ts, received_at FROM events WHERE site_id = '${site}' ORDER BY ts`);
    assert.equal(rows[0].ts, twoDaysAgo);
    assert.equal(rows[1].ts, rows[1].received_at);
  });
});

describe("collect: rate limits", () => {
  test("past 600 beacons a minute from one address: 429 with Retry-After, other addresses unaffected", async () => {
    const site = await createSite(`t-limit-${uid("")}`.slice(0, 40));
    const ip = `198.51.${Math.floor(Math.random() * 250)}.7`;
    // The limiter counts in fixed one-minute windows: within two windows' worth, one must overflow.
    let limited;
    for (let i = 0; i < 1300 && !limited; i++) {
      const res = await request(`${BASE}/api/collect`, {
        method: "POST",
        headers: { "Content-Type": "text/plain", "User-Agent": DESKTOP_UA, Origin: ORIGIN, "CF-Connecting-IP": ip },
        body: JSON.stringify(beacon(site, [event({ name: "burst" })])),
      });
      if (res.status === 429) limited = { retry: res.headers.get("retry-after"), body: await res.json() };
      else assert.equal(res.status, 202, await res.text());
    }
    assert.ok(limited, "the limit was reached");
    assert.equal(limited.retry, "60");
    assert.equal(limited.body.error, "rate_limited");
    const other = await collect(beacon(site, [event()]), { headers: { "CF-Connecting-IP": "192.0.2.80" } });
    assert.equal(other.status, 202);
  });
});

describe("stats API", () => {
  test("no token or a wrong token -> 401", async () => {
    const none = await stats(SITE, "overview", "period=7d", null);
    assert.equal(none.status, 401);
    assert.equal(none.body.error, "unauthorized");
    assert.equal((await stats(SITE, "overview", "period=7d", "wrong")).status, 401);
    assert.equal((await stats("no-such-site", "overview", "period=7d")).status, 401);
  });
  test("bad queries -> 400 with codes", async () => {
    assert.equal((await stats(SITE, "nope")).body.error, "unknown_report");
    assert.equal((await stats(SITE, "overview", "period=1y")).body.error, "invalid_period");
    const reversed = await stats(SITE, "overview", "period=custom&from=2026-02-01&to=2026-01-01");
    assert.equal(reversed.status, 400);
    assert.equal(reversed.body.error, "invalid_range");
  });
  test("overview counts pageviews, visitors, visits, bounces and duration", async () => {
    const site = await createSite(`t-overview-${uid("")}`.slice(0, 40));
    const t0 = Date.now() - 60_000;
    const visitA = beacon(site, [
      event({ ts: t0, url: "http://localhost/a" }),
      event({ ts: t0 + 30_000, url: "http://localhost/b" }),
    ]);
    const visitB = beacon(site, [event({ ts: t0, url: "http://localhost/a" })]);
    assert.equal((await collect(visitA)).body.accepted, 2);
    assert.equal((await collect(visitB)).body.accepted, 1);
    await storedEvents(site, 3);
    const { status, body } = await stats(site, "overview", "period=7d&compare=previous");
    assert.equal(status, 200);
    assert.equal(body.pageviews, 3);
    assert.equal(body.visitors, 2);
    assert.equal(body.visits, 2);
    assert.equal(body.bounce_rate, 50);
    assert.equal(body.visit_duration, 15, "(30 s + 0 s) / 2 visits");
    assert.equal(body.compare.pageviews, 0);
    const pages = await stats(site, "pages", "period=7d");
    assert.deepEqual(pages.body.results, [
      { value: "/a", visitors: 2, count: 2 },
      { value: "/b", visitors: 1, count: 1 },
    ]);
    const entry = await stats(site, "entry-pages", "period=7d");
    assert.deepEqual(entry.body.results, [{ value: "/a", visitors: 2, count: 2 }]);
    const exit = await stats(site, "exit-pages", "period=7d");
    assert.deepEqual(exit.body.results, [
      { value: "/a", visitors: 1, count: 1 },
      { value: "/b", visitors: 1, count: 1 },
    ]);
  });
  test("hourly timeseries for today, and event sums (ai.usage tokens)", async () => {
    const site = await createSite(`t-hours-${uid("")}`.slice(0, 40));
    const ts = Date.now() - 1000;
    const hour = new Date(ts).getUTCHours();
    const body = beacon(site, [
      event({ ts, url: "http://localhost/h" }),
      event({ ts: ts + 1, name: "ai.usage", props: { tokens: 1200, model: "small" } }),
      event({ ts: ts + 2, name: "ai.usage", props: { tokens: 300, model: "small" } }),
    ]);
    assert.equal((await collect(body)).body.accepted, 3);
    await storedEvents(site, 3);
    const series = await eventually(async () => {
      const r = (await stats(site, "timeseries", `${dayOf(ts)}&interval=hour`)).body.results;
      return r?.[hour]?.pageviews === 1 && r;
    }, 15000, "the hour's pageview");
    assert.equal(series.length, 24);
    assert.deepEqual(series[hour], { date: series[hour].date, hour, pageviews: 1, visits: 1, visitors: 1 });
    assert.equal(series.reduce((n, p) => n + p.pageviews, 0), 1);
    const events = (await stats(site, "events", dayOf(ts))).body.results;
    assert.deepEqual(events, [{ value: "ai.usage", visitors: 1, count: 2, sum: 1500 }]);
    assert.equal((await stats(site, "timeseries", "period=30d&interval=hour")).body.error, "invalid_interval");
  });

  test("every report answers 200 JSON", async () => {
    const reports = "overview realtime timeseries pages entry-pages exit-pages sources channels referrers utm countries devices browsers os events goals revenue vitals";
    for (const r of reports.split(" ")) {
      const res = await stats(SITE, r, "period=30d&compare=previous");
      assert.equal(res.status, 200, `${r}: ${JSON.stringify(res.body)}`);
    }
  });
});

describe("privacy", () => {
  test("no IP, user agent, email or query string is written to D1", async () => {
    const site = await createSite(`t-privacy-${uid("")}`.slice(0, 40));
    const res = await collect(
      beacon(site, [
        event({ url: "http://localhost/u/jane.doe@example.com?email=jane.doe@example.com&utm_source=nl&token=s3cret", referrer: "https://ref.example/p?q=jane.doe@example.com" }),
        event({ name: "contact_submit", props: { who: "jane.doe@example.com", card: "4111 1111 1111 1111", plan: "pro" } }),
      ]),
      { headers: { "CF-Connecting-IP": "203.0.113.77", "X-Forwarded-For": "203.0.113.77" } },
    );
    assert.equal(res.body.accepted, 2);
    const named = await collect(beacon(site, [event({ name: "signup jane.doe@example.com" }), event({ props: { "jane.doe@example.com": 1 } })]));
    assert.deepEqual([named.body.accepted, named.body.reasons], [1, { invalid_name: 1 }]);
    await storedEvents(site, 3);
    const dump = JSON.stringify(d1(`SELECT * FROM events WHERE site_id = '${site}'`));
    for (const secret of ["203.0.113", "jane.doe", "example.com", "s3cret", "4111", "Mozilla", "Chrome/", "?"]) {
      assert.ok(!dump.includes(secret), `D1 holds ${secret}: ${dump}`);
    }
    assert.ok(dump.includes('\\"plan\\":\\"pro\\"'), dump);
  });
});
