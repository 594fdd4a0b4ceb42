// The bad-input battery: malformed JSON, wrong types, oversize bodies, 10 000 distinct paths and
// hostile strings. Only 4xx answers (never a 5xx), the worker stays healthy, and good events in the
// same batch are kept.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BASE, beacon, collect, createSite, d1, event, eventually, request, stats, storedEvents, uid } from "./helpers.mjs";

const healthy = async () => (await request(`${BASE}/api/health`)).status === 200;

describe("bad-input battery", () => {
  test("malformed bodies: 4xx JSON, never 5xx", async () => {
    const site = await createSite(`t-bat-${uid("")}`.slice(0, 40));
    const bodies = [
      "", "{", "[]", "null", "1", '"text"', '{"v":1}', '{"v":"1","site":"x","events":[]}',
      `{"v":1,"site":"${site}","events":{}}`, `{"v":1,"site":${JSON.stringify(site)},"events":"nope"}`,
      "[".repeat(5000) + "]".repeat(5000), '{"v":1,"site":"\\ud800","events":[]}', "\u0000\u0001\u0002",
      JSON.stringify({ v: 1, site, events: [event()], extra: "x".repeat(70_000) }),
      JSON.stringify({ v: 1, site: "x".repeat(65), events: [event()] }),
      JSON.stringify({ v: 1, site, visitor_id: "bad id", events: [event()] }),
      JSON.stringify({ v: 1e308, site, events: [event()] }),
    ];
    for (const body of bodies) {
      const res = await collect(body);
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} for ${body.slice(0, 60)}: ${JSON.stringify(res.body)}`);
      assert.equal(typeof res.body.error, "string");
      assert.equal(typeof res.body.message, "string");
    }
    for (const type of ["image/png", "multipart/form-data", "application/x-www-form-urlencoded"]) {
      assert.equal((await collect(beacon(site, [event()]), { type })).status, 415);
    }
    assert.ok(await healthy());
  });

  test("wrong types and hostile strings: bad events dropped and counted, good neighbours kept", async () => {
    const site = await createSite(`t-bat2-${uid("")}`.slice(0, 40));
    const good = [
      event({ url: "http://localhost/" + encodeURIComponent("ünïcødé-✓-עברית-🎉") }),
      event({ name: "search", props: { term: "'; DROP TABLE events; --" } }),
      event({ name: "<script>alert(1)</script>", props: { html: "<img src=x onerror=alert(1)>", nested: { a: 1 }, list: [1, 2], big: 1e308, neg: -0 } }),
      event({ name: "x", props: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, "v".repeat(600)])) }),
      event({ url: "http://localhost/a/../../etc/passwd?token=s3cret#/route" }),
    ];
    const bad = [
      { ...event(), id: 42 }, { ...event(), id: "" }, { ...event(), id: "x".repeat(65) }, { ...event(), ts: "now" },
      { ...event(), ts: 1.5e300 }, { ...event(), name: null }, { ...event(), name: "a".repeat(121) }, { ...event(), name: "tab\there" },
      { ...event(), url: "ftp://localhost/" }, { ...event(), url: "http://localhost/" + "p".repeat(2100) }, { ...event(), url: 7 },
      "event", null, [1, 2], true,
    ];
    const mixed = [good[0], ...bad.slice(0, 5), good[1], good[2], ...bad.slice(5), good[3], good[4]];
    const res = await collect(beacon(site, mixed));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.accepted, good.length);
    assert.equal(res.body.dropped, bad.length);
    await storedEvents(site, good.length);
    const rows = d1(`SELECT event_id, name, path, props FROM events WHERE site_id = '${site}'`);
    assert.deepEqual(rows.map((r) => r.event_id).sort(), good.map((e) => e.id).sort());
    const script = rows.find((r) => r.name === "<script>alert(1)</script>");
    assert.deepEqual(Object.keys(JSON.parse(script.props)).sort(), ["big", "html", "neg"], "objects and arrays are not props");
    assert.ok(JSON.parse(rows.find((r) => r.props.includes("k0")).props).k0.length <= 500);
    assert.ok(!JSON.stringify(rows).includes("s3cret"));
    assert.ok(await healthy());
  });

  test("10 000 distinct paths in one day: all counted, the top list capped with (other)", { timeout: 300_000 }, async () => {
    const site = await createSite(`t-paths-${uid("")}`.slice(0, 40));
    const ts = Date.now() - 60_000;
    for (let b = 0; b < 100; b++) {
      const events = Array.from({ length: 100 }, (_, i) => event({ ts, url: `http://localhost/p/${b}-${i}` }));
      const res = await collect(beacon(site, events), { headers: { "CF-Connecting-IP": `198.18.${b}.1` } });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      assert.equal(res.body.accepted, 100);
    }
    await storedEvents(site, 10_000, 240_000);
    const overview = await eventually(async () => {
      const o = (await stats(site, "overview")).body;
      return o.pageviews === 10_000 && o;
    }, 60_000, "10 000 pageviews in the overview");
    assert.equal(overview.visits, 100);
    const [{ data }] = d1(`SELECT data FROM rollups WHERE site_id = '${site}'`);
    const pages = JSON.parse(data).dims.pages;
    assert.equal(Object.keys(pages).length, 501, "500 paths and (other)");
    assert.equal(Object.values(pages).reduce((n, t) => n + (t.n ?? 0), 0), 10_000, "every pageview counted");
    assert.equal(pages["(other)"].n, 9500);
    const top = (await stats(site, "pages")).body.results;
    assert.equal(top.length, 100);
    assert.deepEqual(top[0], { value: "(other)", visitors: 0, count: 9500 }, "(other) counts pageviews, not unique visitors");
    assert.ok(await healthy());
  });
});
