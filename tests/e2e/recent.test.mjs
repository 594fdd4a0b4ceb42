// The recent log (migration 0017): the last 48 hours of raw events kept by UTC hour beside the
// raw log, which a query of today or of the last minutes reads instead of scanning the site's raw
// log. Each query is answered from the log and then, with the log's start moved past it (so the
// worker reads the raw log as before), from the raw log: the answers must be equal, the log's
// from fewer rows. One visit began over three hours before its last events, its pages 25 minutes
// apart: a read of the last minutes must reach back to its first page for its entry page, and a
// read of the half hour it began in must reach on to its last page for its exit page.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { beacon, collect, createSite, d1, event, storedEvents, uid, v2query } from "./helpers.mjs";

const SITE = `recent-${uid("").slice(-6)}`;
const MIN = 60_000;
const now = Date.now();
const url = (path) => `http://localhost${path}`;

/** The visit of eight pages 25 minutes apart, the last 10 minutes ago. */
const chain = Array.from({ length: 8 }, (_, i) => event({ ts: now - (185 - 25 * i) * MIN, url: url(`/chain/${i}`) }));
/** A busy visitor of the last minutes, and a buyer. */
const busy = Array.from({ length: 60 }, (_, i) => event({ ts: now - 5 * MIN + i * 1000, url: url(`/busy/${i % 7}`) }));
const buyer = [
  event({ ts: now - 3 * MIN, url: url("/shop") }),
  event({ ts: now - 2 * MIN, name: "purchase", url: url("/thanks"), props: { order_id: uid("o"), value: 12, currency: "EUR" } }),
];

const QUERIES = [
  { date_range: "day", metrics: ["visitors", "visits", "pageviews"], dimensions: ["event:page"], filters: [["contains", "event:page", ["/"]]] },
  { date_range: "day", metrics: ["visitors", "pageviews", "bounce_rate", "visit_duration"], filters: [["is", "visit:device", ["Desktop"]]] },
  { date_range: "24h", metrics: ["visitors", "visits"], dimensions: ["visit:entry_page"] },
  { date_range: [new Date(now - 15 * MIN).toISOString(), new Date(now).toISOString()], metrics: ["visitors", "pageviews"], dimensions: ["event:page"], filters: [["is", "visit:entry_page", ["/chain/0"]]] },
  { date_range: [new Date(now - 15 * MIN).toISOString(), new Date(now).toISOString()], metrics: ["visitors", "visits"], dimensions: ["visit:entry_page"] },
  { date_range: "day", metrics: ["visitors", "total_revenue"], dimensions: ["event:goal"] },
  // The half hour the long visit began in: it goes on for three hours, its exit page the last.
  { date_range: [new Date(now - 186 * MIN).toISOString(), new Date(now - 150 * MIN).toISOString()], metrics: ["visitors", "visits"], dimensions: ["visit:exit_page"] },
];

let since;

async function answers() {
  const out = [];
  for (const q of QUERIES) {
    const got = await v2query({ site_id: SITE, ...q });
    assert.equal(got.status, 200, `${JSON.stringify(q)} → ${JSON.stringify(got.body)}`);
    out.push({ results: got.body.results, read: Number(got.headers.get("x-d1-rows-read")) });
  }
  return out;
}

describe("the recent log", () => {
  before(async () => {
    await createSite(SITE);
    for (const events of [chain, busy, buyer]) {
      assert.equal((await collect(beacon(SITE, events))).body.accepted, events.length);
    }
    await storedEvents(SITE, chain.length + busy.length + buyer.length, 30000);
    // Every event of this database was stored by a consumer that keeps the log (the migration
    // made it before the worker ran): the log holds them from the start.
    since = d1("SELECT since FROM recent_log WHERE id = 1")[0]?.since;
    assert.ok(since !== undefined, "the first write began the log");
    d1("UPDATE recent_log SET since = 0 WHERE id = 1");
  });

  after(() => {
    if (since !== undefined) d1(`UPDATE recent_log SET since = ${since} WHERE id = 1`);
  });

  test("answers today's and the last minutes' queries as the raw log does, from fewer rows", async () => {
    const logged = await answers();
    d1(`UPDATE recent_log SET since = ${Date.now() + 3_600_000} WHERE id = 1`);
    const scanned = await answers();
    d1("UPDATE recent_log SET since = 0 WHERE id = 1");
    QUERIES.forEach((q, i) => {
      assert.deepEqual(logged[i].results, scanned[i].results, JSON.stringify(q));
      assert.ok(logged[i].read < scanned[i].read, `${JSON.stringify(q)}: ${logged[i].read} rows from the log, ${scanned[i].read} from the raw log`);
    });
    // The visit that began three hours ago is known by its first page in the last 15 minutes:
    // its pageview there passes the entry-page filter.
    const entry = logged[3].results;
    assert.deepEqual(entry.map((r) => [r.dimensions, r.metrics[1]]), [[["/chain/7"], 1]], JSON.stringify(entry));
    // A read of the half hour it began in goes on to its last page.
    assert.deepEqual(logged[6].results, [{ dimensions: ["/chain/7"], metrics: [1, 1] }], JSON.stringify(logged[6].results));
    // Today's page breakdown counts every page once per pageview (of today's: the test may run
    // just after midnight, UTC).
    const pages = Object.fromEntries(logged[0].results.map((r) => [r.dimensions[0], r.metrics[2]]));
    const midnight = Math.floor(now / 86_400_000) * 86_400_000;
    const expected = busy.filter((e, i) => i % 7 === 0 && e.ts >= midnight).length;
    assert.equal(pages["/busy/0"] ?? 0, expected);
  });
});
