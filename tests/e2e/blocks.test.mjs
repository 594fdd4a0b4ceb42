// Day blocks (core's engine::block, built by the cron from closed days' raw events) against the
// real worker: a generated log is replayed, a matrix of filtered queries and a funnel is answered
// from raw events, then every closed day gets its block (POST /api/admin/compact until none is
// due) and the same queries must give the same answers — the ground truth of
// tests/traffic/truth.mjs — from fewer D1 rows. Parts the worker holds in memory answer as parts
// read from D1 do. A late event makes its day's block stale: counted at once (that day is read
// raw), then built again (and its new parts read, not the ones held).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { generate, localTime } from "../traffic/generate.mjs";
import { answer, funnel, visitsOf } from "../traffic/truth.mjs";
import { ADMIN_TOKEN, BASE, admin, beacon, createSite, d1, event, replay, request, settled, siteApi, storedEvents, uid, v2query } from "./helpers.mjs";

const run = uid("").slice(-6);
const SITE = { id: `b-ber-${run}`, timezone: "Europe/Berlin", host: `b-ber-${run}.example` };
const READ = `read-${uid("")}`;
const DAY_MS = 86_400_000;

const METRICS = ["visitors", "visits", "pageviews", "events"];
/** Plausible's rule: no event metrics with session dimensions alone (entry and exit pages). */
const metricsFor = (dims) => (dims.includes("visit:entry_page") ? ["visitors", "visits"] : METRICS);
const DIMENSIONS = [[], ["event:page"], ["visit:source"], ["visit:device", "event:page"], ["event:goal"], ["visit:entry_page"], ["time:day"], ["event:hostname"]];
const FILTERS = [
  [["is", "visit:device", ["Mobile"]], ["contains", "event:page", ["/"]]],
  [["is_not", "visit:device", ["Desktop"]]],
  [["contains", "event:page", ["/product/"]]],
  [["is", "visit:channel", ["Email"]], ["is", "event:page", ["/cart"]]],
  [["has_done", ["is", "event:name", ["cart_add"]]]],
  [["is", "event:goal", ["purchase"]]],
];
const STEPS = [{ page: "/shop" }, { event: "cart_add" }, { page: "/cart" }];

let visits;
let from;
let to;
let funnelId;

const rows = (body) => Object.fromEntries(body.results.map((r) => [JSON.stringify(r.dimensions), r.metrics]));

/** Every query of the matrix and the funnel over `[a, b]`: { key: { rows, read, held } } (held:
 * the block parts read from the worker's memory; `headers` may ask for none: a cold read). */
async function ask(a, b, headers = {}) {
  const out = {};
  const figures = (got) => ({ read: Number(got.headers.get("x-d1-rows-read")), held: Number(got.headers.get("x-parts-held")) });
  for (const dims of DIMENSIONS) {
    for (const filters of FILTERS) {
      const body = { site_id: SITE.id, metrics: metricsFor(dims), date_range: [a, b], dimensions: dims, filters };
      const got = await v2query(body, READ, headers);
      assert.equal(got.status, 200, `${JSON.stringify(body)} → ${JSON.stringify(got.body)}`);
      out[JSON.stringify([dims, filters])] = { rows: rows(got.body), ...figures(got) };
    }
  }
  const got = await v2query({ site_id: SITE.id, metrics: ["visitors"], date_range: [a, b], funnel: funnelId }, READ, headers);
  assert.equal(got.status, 200, JSON.stringify(got.body));
  out.funnel = { rows: got.body.results.map((r) => r.metrics[0]), ...figures(got) };
  return out;
}

/** The local dates of the site's current blocks (stamped with their day's version now). */
function current() {
  const sql = `SELECT b.day AS day FROM day_blocks b JOIN day_parts t ON t.site_id = b.site_id AND t.part = 'totals' AND t.day = b.day AND t.version = b.stamp WHERE b.site_id = '${SITE.id}' AND b.part = 'visits'`;
  return d1(sql).map((r) => new Date(r.day * DAY_MS).toISOString().slice(0, 10));
}

/** Runs passes of the cron's work until no block is due; answers the blocks built. */
async function buildAll() {
  let built = 0;
  for (let pass = 0; pass < 50; pass++) {
    const got = await admin("POST", "compact");
    assert.equal(got.status, 200, JSON.stringify(got.body));
    built += got.body.blocks.built;
    if (got.body.blocks.due === 0) return built;
  }
  throw new Error("block building never finished");
}

describe("day blocks", () => {
  before(async () => {
    await createSite(SITE.id, [SITE.host], { timezone: SITE.timezone, read_token: READ });
    const g = generate({ sites: [SITE], now: Date.now(), days: 6, visitorsPerDay: 14, staffPerDay: 1, seed: 9090 });
    await replay(g.requests.filter((r) => !r.headers["CF-Connecting-IP"].startsWith("192.0.2.")));
    await storedEvents(SITE.id, g.counts.stored, 120_000);
    visits = visitsOf(g.log, SITE.id, SITE.timezone);
    const dates = g.log.map((x) => localTime(x.event.ts, SITE.timezone).date).sort();
    [from, to] = [dates[0], dates[dates.length - 1]];
    await settled(() => v2query({ site_id: SITE.id, metrics: ["visits"], date_range: [from, to] }, READ).then((r) => r.body));
    const made = await siteApi("POST", SITE.id, "funnels", { token: ADMIN_TOKEN, body: { name: "Cart", steps: STEPS } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    funnelId = made.body.id;
  });

  test("answers from blocks equal those from raw events, and the ground truth, from fewer rows", { timeout: 240_000 }, async () => {
    // The log's closed days (the cron builds a day an hour after it ends: in the first hour of
    // a local day, yesterday is not closed yet), and all of it.
    const yesterday = localTime(Date.now() - 3_600_000 - DAY_MS, SITE.timezone).date;
    const ranges = [[from, yesterday], [from, to]];
    const raw = {};
    for (const [a, b] of ranges) {
      raw[b] = await ask(a, b);
      for (const [key, got] of Object.entries(raw[b])) {
        if (key === "funnel") continue;
        const [dims, filters] = JSON.parse(key);
        assert.deepEqual(got.rows, answer(visits, { metrics: metricsFor(dims), dims, filters, from: a, to: b, internal: false }), key);
      }
      assert.deepEqual(raw[b].funnel.rows, funnel(visits, STEPS, { from: a, to: b }));
    }
    assert.ok(raw[to].funnel.rows[0] > 0, "the generated log has shoppers");

    await buildAll();
    const closed = new Set(visits.map((v) => v.date).filter((d) => d < localTime(Date.now() - 3_600_000, SITE.timezone).date));
    assert.deepEqual(current().sort(), [...closed].sort(), "every closed day with a visit has its block");
    for (const [a, b] of ranges) {
      const fromBlocks = await ask(a, b);
      for (const [key, got] of Object.entries(fromBlocks)) {
        assert.deepEqual(got.rows, raw[b][key].rows, `${a}..${b} ${key}`);
        // Closed days only: blocks alone, no scan of the raw log.
        if (b === yesterday) assert.ok(got.read < raw[b][key].read / 4, `${key}: ${got.read} rows read with blocks, ${raw[b][key].read} from raw events`);
      }
      console.log(`${a}..${b}: the funnel read ${fromBlocks.funnel.read} rows with blocks, ${raw[b].funnel.read} from raw events`);
    }
  });

  test("block parts the worker holds in memory answer as parts read from D1 do", { timeout: 240_000 }, async () => {
    const yesterday = localTime(Date.now() - 3_600_000 - DAY_MS, SITE.timezone).date;
    await buildAll();
    const cold = await ask(from, yesterday, { "X-Test-Cold": "1" });
    const warm = await ask(from, yesterday);
    for (const [key, got] of Object.entries(warm)) {
      assert.equal(cold[key].held, 0, `${key}: a cold read holds nothing`);
      assert.deepEqual(got.rows, cold[key].rows, key);
    }
    // The cold reads left their parts in memory: every query read some of them from there.
    for (const [key, got] of Object.entries(warm)) assert.ok(got.held > 0, `${key}: ${got.held} parts from memory`);
  });

  test("a late event makes its day's block stale: counted at once, built again next pass", { timeout: 120_000 }, async () => {
    const query = { site_id: SITE.id, metrics: ["visitors", "pageviews"], date_range: [from, to], dimensions: ["event:page"], filters: [["contains", "event:page", ["/late"]]] };
    assert.deepEqual(rows((await v2query(query, READ)).body), {});
    // Noon (UTC), three days ago: a closed day with a block.
    const ts = Math.floor(Date.now() / DAY_MS - 3) * DAY_MS + DAY_MS / 2;
    const day = localTime(ts, SITE.timezone).date;
    assert.ok(day >= from && day < to);
    const path = `/late-${run}`;
    const res = await request(`${BASE}/api/collect`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", Authorization: `Bearer write-${SITE.id}`, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36", "CF-Connecting-IP": "10.9.9.8" },
      body: JSON.stringify(beacon(SITE.id, [event({ ts, url: `https://${SITE.host}${path}` })])),
    });
    assert.equal(res.status, 202, await res.text());
    const late = await settled(() => v2query(query, READ).then((r) => rows(r.body)));
    assert.deepEqual(late, { [JSON.stringify([path])]: [1, 1] }, "the late pageview counts at once");
    assert.ok(!current().includes(day), "its block is stale");
    assert.ok((await buildAll()) >= 1, "its day is built again");
    assert.ok(current().includes(day));
    assert.deepEqual(rows((await v2query(query, READ)).body), late, "and its block holds the late event");
  });
});
