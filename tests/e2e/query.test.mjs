// The query API (POST /api/v2/query) against the real worker: a generated log with staff traffic,
// custom props, campaigns and conversions is replayed, then a matrix of queries (metrics ×
// dimensions × filters, staff in and out, comparisons, a funnel, a segment) is answered and
// compared with tests/traffic/truth.mjs, computed from the log alone. Also: who may ask (401 with
// no data), bad queries (400 naming the fault, never 5xx).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { generate, localTime } from "../traffic/generate.mjs";
import { answer, funnel, visitsOf } from "../traffic/truth.mjs";
import { ADMIN_TOKEN, ROOT, createSite, replay, settled, siteApi, stats, storedEvents, uid, v2query } from "./helpers.mjs";

const run = uid("").slice(-6);
const SITE = { id: `q-ber-${run}`, timezone: "Europe/Berlin", host: `q-ber-${run}.example` };
const READ = `read-${uid("")}`;
const OTHER = { id: `q-other-${run}`, read: `read-${uid("")}` };

const VISIT_METRICS = ["visitors", "visits", "pageviews", "events", "bounce_rate", "visit_duration", "views_per_visit"];
const SESSION_METRICS = ["visitors", "visits", "bounce_rate", "visit_duration"];
const EVENT_METRICS = ["visitors", "visits", "pageviews", "events"];
const DIMENSIONS = [
  [],
  ["visit:source"], ["visit:channel"], ["visit:referrer"], ["visit:utm_campaign"], ["visit:device"], ["visit:browser"],
  ["visit:os"], ["visit:country"], ["visit:entry_page"], ["visit:exit_page"], ["time:day"],
  ["event:page"], ["event:name"], ["event:goal"], ["event:props:product"], ["event:hostname"],
  ["visit:device", "time:day"], ["event:page", "visit:source"],
];
const FILTERS = [
  [],
  [["is", "visit:source", ["Google"]]],
  [["is_not", "visit:device", ["Desktop"]]],
  [["contains", "event:page", ["/product/"]]],
  [["is", "visit:channel", ["Email"]], ["is", "event:page", ["/cart"]]],
  [["has_done", ["is", "event:name", ["cart_add"]]]],
  [["is", "event:goal", ["purchase"]]],
  [["is", "event:props:product", ["red-shoe"]]],
];

let log;
let visits;
let from;
let to;

function rows(body) {
  return Object.fromEntries(body.results.map((r) => [JSON.stringify(r.dimensions), r.metrics]));
}

describe("query API", () => {
  before(async () => {
    await createSite(SITE.id, [SITE.host], { timezone: SITE.timezone, read_token: READ });
    await createSite(OTHER.id, ["localhost"], { read_token: OTHER.read });
    const g = generate({ sites: [SITE], now: Date.now(), days: 4, visitorsPerDay: 30, staffPerDay: 3, seed: 4242 });
    log = g.log;
    await replay(g.requests);
    await storedEvents(SITE.id, g.counts.stored, 120_000);
    visits = visitsOf(log, SITE.id, SITE.timezone);
    const dates = log.map((x) => localTime(x.event.ts, SITE.timezone).date).sort();
    [from, to] = [dates[0], dates[dates.length - 1]];
    // Every visit is stored when its sessions row settles.
    await settled(() => v2query({ site_id: SITE.id, metrics: ["visits"], date_range: [from, to] }, READ).then((r) => r.body));
  });

  test("every metric × dimension × filter equals the ground truth", { timeout: 300_000 }, async () => {
    let asked = 0;
    for (const dims of DIMENSIONS) {
      const eventDims = dims.some((d) => d.startsWith("event:"));
      for (const filters of FILTERS) {
        const goal = filters.some((f) => f[1] === "event:goal") || dims.includes("event:goal");
        // Plausible's rules: views_per_visit goes with no dimension and no page filter; event-only
        // metrics not with entry and exit pages (session-only dimensions).
        const pageFilter = JSON.stringify(filters).includes('"event:page"');
        const sessionOnly = dims.some((d) => d === "visit:entry_page" || d === "visit:exit_page");
        const base = (eventDims ? EVENT_METRICS : sessionOnly ? SESSION_METRICS : VISIT_METRICS).filter(
          (m) => !(m === "views_per_visit" && (pageFilter || dims.length)),
        );
        const metrics = [...base, ...(dims.length ? ["percentage"] : []), ...(goal ? ["conversion_rate"] : [])];
        const body = { site_id: SITE.id, metrics, date_range: [from, to], dimensions: dims, filters };
        const got = await v2query(body, READ);
        assert.equal(got.status, 200, `${JSON.stringify(body)} → ${JSON.stringify(got.body)}`);
        const want = answer(visits, { metrics, dims, filters, from, to, internal: false });
        assert.deepEqual(rows(got.body), want, JSON.stringify(body));
        asked++;
      }
    }
    console.log(`${asked} queries matched the ground truth`);
  });

  test("staff traffic is left out unless asked for, and can be broken out", async () => {
    const base = { site_id: SITE.id, metrics: ["visitors", "pageviews", "events"], date_range: [from, to] };
    const customers = await v2query(base, READ);
    const all = await v2query({ ...base, include: { internal: true } }, READ);
    const split = await v2query({ ...base, dimensions: ["event:internal"] }, READ);
    const truth = (internal, dims = []) => answer(visits, { metrics: base.metrics, dims, filters: [], from, to, internal });
    assert.deepEqual(rows(customers.body), truth(false));
    assert.deepEqual(rows(all.body), truth(true));
    assert.deepEqual(rows(split.body), truth(true, ["event:internal"]));
    assert.ok(rows(split.body)['["true"]'][1] > 0, "the log has staff pageviews");
    assert.ok(rows(all.body)["[]"][1] > rows(customers.body)["[]"][1]);
    // A staff test order is no conversion of the shop's.
    const orders = await v2query({ ...base, metrics: ["events"], filters: [["is", "event:goal", ["purchase"]], ["is", "event:page", ["/thank-you"]]] }, READ);
    assert.deepEqual(rows(orders.body), answer(visits, { metrics: ["events"], dims: [], filters: [["is", "event:goal", ["purchase"]]], from, to, internal: false }));
    // Kept apart at write time: the daily rollups (the v1 reports) count customers only.
    const v1 = (await stats(SITE.id, "overview", `period=custom&from=${from}&to=${to}`, READ)).body;
    const [visitors, pageviews] = truth(false)["[]"];
    assert.deepEqual([v1.visitors, v1.pageviews], [visitors, pageviews]);
    const goals = (await stats(SITE.id, "goals", `period=custom&from=${from}&to=${to}`, READ)).body.results;
    const purchases = answer(visits, { metrics: ["events"], dims: [], filters: [["is", "event:goal", ["purchase"]]], from, to, internal: false })["[]"][0];
    assert.equal(goals.find((g) => g.value === "purchase")?.count, purchases);
  });

  test("comparisons, time labels, ordering and pagination", async () => {
    const body = {
      site_id: SITE.id, metrics: ["visitors", "pageviews"], date_range: [from, to], dimensions: ["time:day"],
      include: { time_labels: true, total_rows: true, comparisons: { mode: "previous_period" } },
    };
    const got = await v2query(body, READ);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.meta.time_labels.length, got.body.meta.time_labels.length);
    assert.equal(got.body.meta.time_labels[0], from);
    for (const r of got.body.results) {
      assert.deepEqual(Object.keys(r.comparison).sort(), ["change", "dimensions", "metrics"]);
      assert.deepEqual(r.comparison.metrics, [0, 0], "nothing before the log");
      assert.deepEqual(r.comparison.change, r.metrics.map((m) => (m ? 100 : 0)));
    }
    assert.deepEqual(got.body.query.date_range.map((d) => d.slice(0, 10)), [from, to]);
    // Top pages, paged: the same rows as one long page, in order.
    const pages = { site_id: SITE.id, metrics: ["visitors"], date_range: [from, to], dimensions: ["event:page"], include: { total_rows: true } };
    const whole = (await v2query(pages, READ)).body;
    const second = (await v2query({ ...pages, pagination: { limit: 3, offset: 3 } }, READ)).body;
    assert.deepEqual(second.results, whole.results.slice(3, 6));
    assert.equal(second.meta.total_rows, whole.results.length);
    const visitors = whole.results.map((r) => r.metrics[0]);
    assert.deepEqual(visitors, [...visitors].sort((a, b) => b - a), "ordered by visitors, most first");
  });

  test("a saved funnel and a saved segment answer through the query", async () => {
    const steps = [{ page: "/shop" }, { page: "/cart" }, { event: "purchase" }];
    const made = await siteApi("POST", SITE.id, "funnels", { token: ADMIN_TOKEN, body: { name: "Buy", steps } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const got = await v2query({ site_id: SITE.id, metrics: ["visitors"], date_range: [from, to], funnel: made.body.id }, READ);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.deepEqual(got.body.results.map((r) => r.metrics[0]), funnel(visits, steps, { from, to }));
    assert.deepEqual(got.body.meta.funnel.steps.map((s) => s.label), ["Visit /shop", "Visit /cart", "purchase"]);
    const unknown = await v2query({ site_id: SITE.id, metrics: ["visitors"], date_range: [from, to], funnel: 999999 }, READ);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /no funnel with id 999999/);

    const filters = [["is", "visit:source", ["Google"]], ["is_not", "visit:device", ["Desktop"]]];
    const segment = await siteApi("POST", SITE.id, "segments", { token: ADMIN_TOKEN, body: { name: "Mobile Google", filters } });
    assert.equal(segment.status, 201, JSON.stringify(segment.body));
    const metrics = ["visitors", "visits", "bounce_rate"];
    const bySegment = await v2query({ site_id: SITE.id, metrics, date_range: [from, to], filters: [["is", "segment", [segment.body.id]]] }, READ);
    assert.equal(bySegment.status, 200, JSON.stringify(bySegment.body));
    assert.deepEqual(rows(bySegment.body), answer(visits, { metrics, dims: [], filters, from, to, internal: false }));
  });

  test("Plausible's documented request bodies are answered in the documented shape", async () => {
    const made = await siteApi("POST", SITE.id, "segments", { token: ADMIN_TOKEN, body: { name: "Docs", filters: [["is", "visit:source", ["Google"]]] } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const examples = JSON.parse(readFileSync(join(ROOT, "tests/fixtures/plausible-v2-examples.json"), "utf8"));
    assert.ok(examples.length >= 20);
    for (const example of examples) {
      // Our site, and the docs' segment 2 as one of ours.
      const body = JSON.parse(JSON.stringify({ ...example, site_id: SITE.id }).replace('["is","segment",[2]]', `["is","segment",[${made.body.id}]]`));
      const got = await v2query(body, READ);
      assert.equal(got.status, 200, `${JSON.stringify(example)} → ${JSON.stringify(got.body)}`);
      assert.deepEqual(Object.keys(got.body).sort(), ["meta", "query", "results"]);
      const dims = body.dimensions ?? [];
      for (const row of got.body.results) {
        assert.equal(row.metrics.length, body.metrics.length, JSON.stringify(row));
        assert.equal(row.dimensions.length, dims.length, JSON.stringify(row));
      }
      assert.equal(got.body.query.site_id, SITE.id);
      assert.equal(got.body.query.date_range.length, 2);
      if (body.include?.total_rows) assert.equal(typeof got.body.meta.total_rows, "number");
      if (body.include?.time_labels) assert.ok(Array.isArray(got.body.meta.time_labels));
      if (body.pagination) assert.ok(got.body.results.length <= body.pagination.limit);
    }
  });

  test("who may ask: the site's read token or the admin token; anything else 401 with no data", async () => {
    const body = { site_id: SITE.id, metrics: ["visitors"], date_range: [from, to] };
    for (const token of ["", "wrong", OTHER.read]) {
      const got = await v2query(body, token);
      assert.equal(got.status, 401, token);
      assert.deepEqual(Object.keys(got.body).sort(), ["error", "message"]);
    }
    assert.equal((await v2query(body, ADMIN_TOKEN)).status, 200);
    assert.equal((await v2query({ ...body, site_id: OTHER.id }, OTHER.read)).status, 200);
  });

  test("bad queries are 400s naming the fault, never 5xx", async () => {
    const ok = { site_id: SITE.id, metrics: ["visitors"], date_range: "7d" };
    const cases = [
      ["{", /JSON/i],
      [JSON.stringify({ ...ok, metrics: ["nope"] }), /nope/],
      [JSON.stringify({ ...ok, date_range: "forever" }), /date_range/],
      [JSON.stringify({ ...ok, filters: [["matches", "event:page", ["(unclosed"]]] }), /regular expression/],
      [JSON.stringify({ ...ok, metrics: ["conversion_rate"] }), /conversion_rate/],
      [JSON.stringify({ ...ok, filters: [["is", "segment", [424242]]] }), /424242/],
      ["[" .repeat(5000) + "]".repeat(5000), /./],
      [JSON.stringify({ ...ok, pad: "x".repeat(70 * 1024) }), /./],
    ];
    for (const [body, message] of cases) {
      const got = await v2query(body, READ);
      assert.ok(got.status >= 400 && got.status < 500, `${body.slice(0, 80)} → ${got.status}`);
      assert.match(got.body.message ?? "", message, `${body.slice(0, 80)} → ${JSON.stringify(got.body)}`);
    }
  });
});
