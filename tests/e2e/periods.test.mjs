// Summed weeks and months (the cron's compaction, core's ingest::compact) against the real worker:
// 45 days of generated traffic are replayed (imported with the site's write token), a set of
// queries the rollups answer is compared with tests/traffic/truth.mjs, then the closed weeks and
// months are summed (POST /api/admin/compact until nothing is due) and the same queries must give
// the same answers from fewer D1 rows. Rollup parts the worker holds in memory answer as parts read
// from D1 do. A late event into a summed month makes that month stale: it is counted at once (its
// days are read, not the parts held) and summed again on the next pass.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { generate, localTime } from "../traffic/generate.mjs";
import { answer, visitsOf } from "../traffic/truth.mjs";
import { admin, beacon, createSite, event, replay, request, settled, stats, storedEvents, uid, v2query, BASE } from "./helpers.mjs";

const run = uid("").slice(-6);
const SITE = { id: `p-ny-${run}`, timezone: "America/New_York", host: `p-ny-${run}.example` };
const READ = `read-${uid("")}`;

// Each dimension the rollups hold, with the metrics they count for it.
const QUERIES = [
  { metrics: ["visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration", "views_per_visit"], dims: [] },
  ...["visit:source", "visit:channel", "visit:referrer", "visit:utm_campaign", "visit:device", "visit:browser", "visit:os", "visit:country", "visit:entry_page", "visit:exit_page"].map(
    (d) => ({ metrics: ["visitors", "visits", "percentage"], dims: [d] }),
  ),
  { metrics: ["visitors", "pageviews", "percentage"], dims: ["event:page"] },
  { metrics: ["visitors", "events", "conversion_rate"], dims: ["event:goal"] },
];

let log;
let visits;
let from;
let to;

const rows = (body) => Object.fromEntries(body.results.map((r) => [JSON.stringify(r.dimensions), r.metrics]));

/** Every query over `range`, staff left out and counted: { key: { rows, read, held } } (held:
 * rollup parts read from the worker's memory; `headers` may ask for none: a cold read). */
async function ask(range, headers = {}) {
  const out = {};
  for (const internal of [false, true]) {
    for (const q of QUERIES) {
      const body = { site_id: SITE.id, metrics: q.metrics, date_range: range, dimensions: q.dims, include: { internal } };
      const got = await v2query(body, READ, headers);
      assert.equal(got.status, 200, `${JSON.stringify(body)} → ${JSON.stringify(got.body)}`);
      out[JSON.stringify([internal, q.dims])] = { rows: rows(got.body), read: Number(got.headers.get("x-d1-rows-read")), held: Number(got.headers.get("x-parts-held")) };
    }
  }
  return out;
}

/** Runs compaction passes until nothing is due; answers the periods summed. */
async function compactAll() {
  let summed = 0;
  for (let pass = 0; pass < 50; pass++) {
    const got = await admin("POST", "compact");
    assert.equal(got.status, 200, JSON.stringify(got.body));
    summed += got.body.summed;
    if (got.body.due === 0) return summed;
  }
  throw new Error("compaction never finished");
}

describe("summed weeks and months", () => {
  before(async () => {
    await createSite(SITE.id, [SITE.host], { timezone: SITE.timezone, read_token: READ, retention_days: 90 });
    const g = generate({ sites: [SITE], now: Date.now(), days: 45, visitorsPerDay: 6, staffPerDay: 1, seed: 777 });
    log = g.log;
    // Without the bots' beacons (stored never; one /24 would pass its per-address limit).
    await replay(g.requests.filter((r) => !r.headers["CF-Connecting-IP"].startsWith("192.0.2.")));
    await storedEvents(SITE.id, g.counts.stored, 120_000);
    visits = visitsOf(log, SITE.id, SITE.timezone);
    const dates = log.map((x) => localTime(x.event.ts, SITE.timezone).date).sort();
    [from, to] = [dates[0], dates[dates.length - 1]];
    await settled(() => v2query({ site_id: SITE.id, metrics: ["visits"], date_range: [from, to] }, READ).then((r) => r.body));
  });

  test("answers from summed periods equal those from days, and the ground truth, from fewer rows", { timeout: 240_000 }, async () => {
    const byDays = await ask([from, to]);
    for (const [key, got] of Object.entries(byDays)) {
      const [internal, dims] = JSON.parse(key);
      const q = QUERIES.find((x) => JSON.stringify(x.dims) === JSON.stringify(dims));
      assert.deepEqual(got.rows, answer(visits, { metrics: q.metrics, dims, filters: [], from, to, internal }), key);
    }
    const summed = await compactAll();
    assert.ok(summed >= 5, `45 days hold at least a closed month and four closed weeks (summed ${summed})`);
    assert.equal(await compactAll(), 0, "a second run finds nothing due");
    const byPeriods = await ask([from, to]);
    const pages = JSON.stringify([false, ["event:page"]]);
    console.log(`${summed} periods summed; top pages read ${byDays[pages].read} rows from days, ${byPeriods[pages].read} from periods`);
    for (const [key, got] of Object.entries(byPeriods)) {
      assert.deepEqual(got.rows, byDays[key].rows, key);
      assert.ok(got.read < byDays[key].read, `${key}: ${got.read} rows read from periods, ${byDays[key].read} from days`);
    }
    // A comparison with a range apart from the query's reads periods for both.
    const half = localTime(Date.parse(`${from}T12:00:00Z`) + 22 * 86_400_000, SITE.timezone).date;
    const body = {
      site_id: SITE.id, metrics: ["visitors", "pageviews"], date_range: [half, to], dimensions: ["event:page"],
      include: { comparisons: { mode: "custom", date_range: [from, localTime(Date.parse(`${half}T12:00:00Z`) - 86_400_000, SITE.timezone).date] } },
    };
    const got = await v2query(body, READ);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    const now = answer(visits, { metrics: body.metrics, dims: ["event:page"], filters: [], from: half, to, internal: false });
    const before = answer(visits, { metrics: body.metrics, dims: ["event:page"], filters: [], from, to: body.include.comparisons.date_range[1], internal: false });
    for (const r of got.body.results) {
      const key = JSON.stringify(r.dimensions);
      assert.deepEqual(r.metrics, now[key], key);
      assert.deepEqual(r.comparison.metrics, before[key] ?? [0, 0], `${key} before`);
    }
    // The v1 reports read the same periods.
    const v1 = (await stats(SITE.id, "overview", `period=custom&from=${from}&to=${to}`, READ)).body;
    const [visitors, , pageviews] = answer(visits, { metrics: ["visitors", "visits", "pageviews"], dims: [], filters: [], from, to, internal: false })["[]"];
    assert.deepEqual([v1.visitors, v1.pageviews], [visitors, pageviews]);
  });

  test("rollup parts the worker holds in memory answer as parts read from D1 do", { timeout: 120_000 }, async () => {
    const cold = await ask([from, to], { "X-Test-Cold": "1" });
    const warm = await ask([from, to]);
    for (const [key, got] of Object.entries(warm)) {
      assert.equal(cold[key].held, 0, `${key}: a cold read holds nothing`);
      assert.deepEqual(got.rows, cold[key].rows, key);
      assert.ok(got.held > 0, `${key}: ${got.held} parts from memory`);
    }
  });

  test("a late event makes its summed month stale: counted at once, summed again next pass", { timeout: 120_000 }, async () => {
    const query = { site_id: SITE.id, metrics: ["visitors", "pageviews"], date_range: [from, to], dimensions: ["event:page"] };
    const before = rows((await v2query(query, READ)).body);
    const overview = { site_id: SITE.id, metrics: ["visitors", "pageviews"], date_range: [from, to] };
    const [visitors, pageviews] = rows((await v2query(overview, READ)).body)["[]"];
    // Noon, 30 days ago: inside a summed week or month of the log.
    const ts = Date.now() - 30 * 86_400_000;
    const path = `/late-${run}`;
    const res = await request(`${BASE}/api/collect`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", Authorization: `Bearer write-${SITE.id}`, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36", "CF-Connecting-IP": "10.9.9.9" },
      body: JSON.stringify(beacon(SITE.id, [event({ ts, url: `https://${SITE.host}${path}` })])),
    });
    assert.equal(res.status, 202, await res.text());
    const late = await settled(() => v2query(overview, READ).then((r) => rows(r.body)["[]"]));
    assert.deepEqual(late, [visitors + 1, pageviews + 1], "the late pageview and its visitor count at once");
    const pages = rows((await v2query(query, READ)).body);
    assert.deepEqual(pages[JSON.stringify([path])], [1, 1]);
    delete pages[JSON.stringify([path])];
    assert.deepEqual(pages, before);
    assert.ok((await compactAll()) >= 1, "the stale periods are summed again");
    const again = rows((await v2query(query, READ)).body);
    assert.deepEqual(again[JSON.stringify([path])], [1, 1], "and hold the late event");
  });
});
