// Hardening of the consumer path, against the real worker and local D1: numbers that cannot poison a
// day, sizes past the platform's limits, an order id a stranger cannot pre-empt, de-duplication that
// remembers by receive time, and an outage longer than every retry that still loses nothing.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BASE, RECENT, admin, beacon, collect, createSite, d1, event, eventually, request, settled, stats, storedEvents, uid } from "./helpers.mjs";

const ORIGIN = { Origin: "http://localhost" };
const send = (body) => collect(body, { headers: ORIGIN });
/** Sends until accepted, as the SDK does: `fault-` sites also meet injected 503s. */
async function sendUntilAccepted(body) {
  for (let tries = 0; tries < 30; tries++) {
    const res = await send(body);
    if (res.status === 202) return res;
    assert.equal(res.status, 503, JSON.stringify(res.body));
  }
  throw new Error("never accepted");
}
const siteId = (prefix) => `${prefix}-${uid("")}`.slice(0, 40);
const cron = () => request(`${BASE}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);

describe("hardening: the consumer path", () => {
  test("two events of value 1.7e308 cannot poison a day: reports answer, later batches are stored", async () => {
    const site = await createSite(siteId("t-poison"));
    const buy = (value) => event({ name: "purchase", props: { value, currency: "EUR" } });
    assert.equal((await send(beacon(site, [buy(1.7e308), buy(1.7e308)]))).body.accepted, 2);
    await storedEvents(site, 2);
    assert.equal((await send(beacon(site, [buy(12.5), event()]))).body.accepted, 2);
    await storedEvents(site, 4);
    const revenue = await eventually(async () => {
      const r = await stats(site, "revenue", RECENT);
      return r.status === 200 && r.body.results.length > 0 && r.body.results;
    }, 20000, "the revenue report");
    assert.deepEqual(revenue.map((r) => [r.value, r.count, r.revenue]), [["EUR", 1, 12.5]]);
    const overview = await stats(site, "overview", RECENT);
    assert.equal(overview.status, 200, JSON.stringify(overview.body));
    assert.equal(overview.body.pageviews, 1);
    const goals = (await stats(site, "goals", RECENT)).body.results;
    assert.equal(goals.find((g) => g.value === "purchase").count, 3, "every purchase counts; the huge amounts are not summed");
  });

  test("an unreadable stored rollup is set aside and counted; the site's next batch is stored", async () => {
    const site = await createSite(siteId("t-aside"));
    assert.equal((await send(beacon(site, [event()]))).body.accepted, 1);
    await storedEvents(site, 1);
    await eventually(() => d1(`SELECT COUNT(*) AS n FROM rollups WHERE site_id = '${site}'`)[0].n === 1, 20000, "a rollup");
    const before = (await admin("GET", "dead-letters")).body.set_aside_rows;
    d1(`UPDATE day_parts SET data = '{"pageviews":"broken"' WHERE site_id = '${site}' AND part = 'totals'`);
    const report = await stats(site, "overview", RECENT);
    assert.equal(report.status, 200, "a damaged day never makes a report fail");
    assert.equal((await send(beacon(site, [event(), event()]))).body.accepted, 2);
    await storedEvents(site, 3);
    const overview = await eventually(async () => {
      const r = (await stats(site, "overview", RECENT)).body;
      return r.pageviews === 2 && r;
    }, 20000, "the new batch counted");
    assert.equal(overview.pageviews, 2, "the day starts again from the new batch");
    assert.equal((await admin("GET", "dead-letters")).body.set_aside_rows, before + 1);
    assert.equal(d1(`SELECT COUNT(*) AS n FROM set_aside WHERE site_id = '${site}' AND kind = 'day'`)[0].n, 1);
  });

  test("a 60 KB body of backslashes fits the queue (props escaped once) and is stored", async () => {
    const site = await createSite(siteId("t-escape"));
    // Every prop at its caps (30 keys, 500 characters), all backslashes: escaped twice, as an older
    // build wrote the queue message, this body made a message over Queues' 128 KB.
    const props = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, "\\".repeat(500)]));
    const body = beacon(site, [event({ name: "note", props }), event({ name: "note", props })]);
    const bytes = JSON.stringify(body).length;
    assert.ok(bytes > 60_000 && bytes < 64 * 1024, `${bytes} bytes`);
    const res = await send(body);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.accepted, 2);
    await storedEvents(site, 2);
    const stored = d1(`SELECT props FROM events WHERE site_id = '${site}'`).map((r) => JSON.parse(r.props));
    assert.deepEqual(stored, [props, props]);
  });

  test("the largest beacon the collector takes (100 events, escapes everywhere) is enqueued whole and stored", async () => {
    const site = await createSite(siteId("t-split"));
    // Control characters take six bytes each in JSON, in the body as in the message; the message
    // adds only a few fields per event (a message that still passed 120 KB would be cut by events:
    // core's queue tests prove that).
    const control = "\u0001".repeat(40);
    const events = Array.from({ length: 100 }, (_, i) => event({ name: "note", url: `http://localhost/p${i}?utm_campaign=c${i}`, props: { a: control, b: control } }));
    const body = beacon(site, events);
    const bytes = JSON.stringify(body).length;
    assert.ok(bytes > 60_000 && bytes < 64 * 1024, `${bytes} bytes`);
    const res = await send(body);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.accepted, 100);
    assert.equal(await storedEvents(site, 100), 100);
  });

  test("stored strings are capped: long paths and unknown vitals names keep a day's rollup small", async () => {
    const site = await createSite(siteId("t-caps"));
    const long = "x".repeat(1900);
    for (let b = 0; b < 8; b++) {
      const events = Array.from({ length: 25 }, (_, i) => event({ url: `http://localhost/${b}-${i}-${long}` }));
      events.push(event({ name: "web_vital", props: { metric: "M".repeat(400), value: 5 } }));
      events.push(event({ name: "web_vital", props: { metric: "LCP", value: 1200 } }));
      const res = await send(beacon(site, events));
      assert.equal(res.body.accepted, 27, JSON.stringify(res.body));
    }
    await storedEvents(site, 216, 60000);
    const [{ bytes, data }] = await eventually(() => {
      const rows = d1(`SELECT length(data) AS bytes, data FROM rollups WHERE site_id = '${site}'`);
      return rows.length === 1 && JSON.parse(rows[0].data).pageviews === 200 && rows;
    }, 30000, "the day's rollup");
    const day = JSON.parse(data);
    assert.ok(bytes < 200_000, `a day of ${bytes} bytes`);
    assert.ok(Object.keys(day.dims.pages).every((p) => p.length <= 300), "dimension values are capped");
    assert.ok("(other)" in day.dims.pages, "past the dimension's byte budget, values count as (other)");
    // (A page seen only in a web-vital report counts its visitor, with no pageview: n absent.)
    assert.equal(day.dims.pages["(other)"].n + Object.entries(day.dims.pages).filter(([k]) => k !== "(other)").reduce((n, [, t]) => n + (t.n ?? 0), 0), 200);
    assert.deepEqual(Object.keys(day.vitals), ["LCP"], "only the known metrics are kept");
  });

  test("a stranger's purchase with a guessed order id does not make the buyer's a duplicate", async () => {
    const site = await createSite(siteId("t-order"));
    const order = uid("o");
    const buy = () => event({ name: "purchase", props: { order_id: order, value: 30, currency: "EUR" } });
    assert.equal((await send(beacon(site, [buy()]))).body.accepted, 1); // the stranger
    await storedEvents(site, 1);
    const buyer = beacon(site, [buy()]);
    assert.equal((await send(buyer)).body.accepted, 1);
    // The buyer's thank-you page reloaded: the same order again, from the same visitor.
    assert.equal((await send({ ...buyer, events: [buy()] })).body.accepted, 1);
    await storedEvents(site, 2);
    const goals = await settled(async () => (await stats(site, "goals", RECENT)).body.results);
    assert.equal(goals.find((g) => g.value === "purchase").count, 2, "the stranger's and the buyer's, once each");
    assert.equal(d1(`SELECT COUNT(*) AS n FROM events WHERE site_id = '${site}'`)[0].n, 2);
  });

  test("de-duplication remembers by receive time: an old replay on a 2-day site is not counted twice", async () => {
    const site = await createSite(siteId("t-replay"), undefined, { retention_days: 2 });
    const old = event({ ts: Date.now() - 6 * 86400_000, url: "http://localhost/offline" });
    const body = beacon(site, [old]);
    assert.equal((await send(body)).body.accepted, 1);
    await storedEvents(site, 1);
    assert.equal((await cron()).status, 200);
    assert.equal(d1(`SELECT COUNT(*) AS n FROM events WHERE site_id = '${site}'`)[0].n, 1, "kept 48 h after it was received");
    assert.equal((await send(body)).body.accepted, 1, "the resend is accepted (202), and stored once");
    const overview = await settled(async () => (await stats(site, "overview", "period=7d")).body.pageviews);
    assert.equal(overview, 1);
    // Received over 48 hours ago and past retention: now it goes.
    d1(`UPDATE events SET received_at = received_at - 49 * 3600000 WHERE site_id = '${site}'`);
    assert.equal((await cron()).status, 200);
    assert.equal(d1(`SELECT COUNT(*) AS n FROM events WHERE site_id = '${site}'`)[0].n, 0);
  });

  test("an outage longer than every retry: dead letters are kept, counted and re-ingested exactly once", async () => {
    // The consumer fails every batch of a `fault-outage-<ms>` site until that time (FAULTS is set
    // in the test suite; RETRY_MAX_DELAY_S=2 makes Queues' 12 retries run out in about 25 s).
    const until = Date.now() + 45_000;
    const site = await createSite(`fault-outage-${until}-${uid("").slice(-6)}`);
    const beacons = Array.from({ length: 5 }, (_, i) => beacon(site, [event({ url: `http://localhost/o${i}` }), event({ name: "cart_add" })]));
    for (const body of beacons) assert.equal((await sendUntilAccepted(body)).body.accepted, 2);
    const summary = async () => (await admin("GET", "dead-letters")).body;
    const keptBefore = (await summary()).kept_events;
    const kept = await eventually(async () => {
      const s = await summary();
      return s.kept_events - keptBefore >= 10 && s;
    }, 80_000, "the messages dead-lettered and kept");
    assert.ok(kept.kept_messages >= 5 && kept.dead_lettered_events >= 10, JSON.stringify(kept));
    assert.equal(d1(`SELECT COUNT(*) AS n FROM events WHERE site_id = '${site}'`)[0].n, 0, "nothing stored during the outage");
    await eventually(() => Date.now() > until + 500, 60_000, "the outage's end");
    // Sent again by the browsers meanwhile (a resend of one beacon): counted once with the rest.
    assert.equal((await sendUntilAccepted(beacons[0])).body.accepted, 2);
    const replayed = await admin("POST", "dead-letters/replay");
    assert.equal(replayed.status, 200, JSON.stringify(replayed.body));
    assert.ok(replayed.body.replayed_messages >= 5);
    assert.equal(await storedEvents(site, 10, 30_000), 10);
    const again = await admin("POST", "dead-letters/replay");
    assert.equal(again.body.kept_messages, 0, "nothing left to replay");
    const overview = await settled(async () => (await stats(site, "overview", RECENT)).body);
    assert.equal(overview.pageviews, 5);
    assert.equal(overview.visits, 5);
    assert.equal(d1(`SELECT COUNT(*) AS n FROM events WHERE site_id = '${site}'`)[0].n, 10);
    const bad = await admin("POST", "dead-letters", {});
    assert.equal(bad.status, 405);
    assert.equal((await admin("GET", "dead-letters", undefined, "wrong-token")).status, 401);
  });
});
