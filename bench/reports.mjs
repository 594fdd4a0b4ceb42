// The reports benchmark (run by scripts/bench-reports.sh against a wrangler dev serving the busy
// site that core/examples/busy_site.rs seeded): for each query, a few warm-up requests, then up
// to BENCH_RUNS (30) sequential requests, at most BENCH_QUERY_SECONDS (90) each query; p50 and p95
// latency as the client sees it, and D1's rows read per request (the test-hooks build's
// `X-D1-Rows-Read` header: every statement of the request). Prints one table, the issue's floors
// beside it, and writes the figures to BENCH_RESULTS (.wrangler/bench-reports.json).
//
// Queries are a list that grows: a v1 report is a GET, a later engine's query a POST with a JSON
// body; a query this build cannot answer has `request: null` and prints as "n/a on this build".
import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { BASE, launch, request } from "../tests/e2e/helpers.mjs";

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const QUERY_SECONDS = Number(process.env.BENCH_QUERY_SECONDS ?? 90);
const RESULTS = process.env.BENCH_RESULTS;
/** First loads of the dashboard per row, each in a fresh browser context (nothing cached). */
const LOADS = Number(process.env.BENCH_DASHBOARD_LOADS ?? 10);
const seed = JSON.parse(readFileSync(process.env.BENCH_SEED_SUMMARY, "utf8"));

const DAY_MS = 86_400_000;
const date = (ms) => new Date(ms).toISOString().slice(0, 10);
/** The last `n` UTC days, today included (the busy site's days are UTC). */
const lastDays = (n) => ({ period: "custom", from: date(Date.now() - (n - 1) * DAY_MS), to: date(Date.now()) });
/** A v1 report: `GET /api/sites/{site}/stats/{report}?…`. */
const v1 = (report, params) => ({ method: "GET", path: `/api/sites/${seed.site}/stats/${report}?${new URLSearchParams(params)}` });

/** A Stats API v2 query: `POST /api/v2/query` over the last `n` UTC days (today included). */
const v2 = (n, body) => {
  const range = lastDays(n);
  return { method: "POST", path: "/api/v2/query", body: { site_id: seed.site, date_range: [range.from, range.to], ...body } };
};
/** A Stats API v2 query over a shorthand range (`"30d"`: Plausible's, the 30 days before today). */
const v2Named = (range) => (n, body) => ({ method: "POST", path: "/api/v2/query", body: { site_id: seed.site, date_range: range, ...body } });
/** The busy site's shopping funnel, saved once per run through the saved-funnels API (admin token). */
const FUNNEL_STEPS = [{ page: "/products/**" }, { event: "cart_add" }, { page: "/checkout" }, { event: "purchase" }];
let funnelId = null;
if (process.env.BENCH_ADMIN_TOKEN) {
  const res = await request(`${BASE}/api/sites/${seed.site}/funnels`, {
    method: "POST",
    headers: { Authorization: `Bearer ${process.env.BENCH_ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Shop", steps: FUNNEL_STEPS }),
  });
  const made = await res.json();
  if (res.status !== 201) throw new Error(`saving the funnel: ${res.status} ${JSON.stringify(made)}`);
  funnelId = made.id;
}
const funnelQuery = (n, over = v2) => (funnelId === null ? null : over(n, { metrics: ["visitors"], funnel: funnelId }));
/** A request the test-hooks build answers without the block parts its worker holds. */
const cold = (request) => request && { ...request, headers: { "X-Test-Cold": "1" } };
const FILTERED = { metrics: ["visitors", "pageviews"], dimensions: ["event:page"], filters: [["is", "visit:device", ["Mobile"]], ["contains", "event:page", ["/"]]] };
const OVERVIEW = { metrics: ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"] };
const PAGES = { metrics: ["visitors", "pageviews"], dimensions: ["event:page"], pagination: { limit: 100 } };

/** name, the issue's p95 floor in ms (null: none), and the request (null: not on this build). */
export const QUERIES = [
  { name: "v2 overview, 91 days", floor: 50, request: v2(91, OVERVIEW) },
  { name: "v2 top pages, 91 days", floor: 50, request: v2(91, PAGES) },
  { name: "v2 overview, 12 months", floor: 150, request: v2(365, OVERVIEW) },
  { name: "v2 top pages, 12 months", floor: 150, request: v2(365, PAGES) },
  { name: "v2 sources by day, 30 days", floor: null, request: v2(30, { metrics: ["visitors", "visits"], dimensions: ["time:day", "visit:source"] }) },
  // The floors' queries as Plausible's API asks them: `"date_range": "30d"` is the 30 whole days
  // before today, which day blocks hold.
  { name: "v2 filtered breakdown (visit + event filter), 30d", floor: 250, request: v2Named("30d")(30, FILTERED) },
  { name: "4-step funnel, 30d", floor: 500, request: funnelQuery(30, v2Named("30d")) },
  // The same read cold: every request reads its rollup or block parts from D1 (and parses or
  // inflates them), as the first request of a worker does; the rows above read what a worker
  // holds in memory from there.
  { name: "v2 overview, 91 days, cold (nothing held)", floor: null, request: cold(v2(91, OVERVIEW)) },
  { name: "v2 top pages, 91 days, cold", floor: null, request: cold(v2(91, PAGES)) },
  { name: "v2 top pages, 12 months, cold", floor: null, request: cold(v2(365, PAGES)) },
  { name: "v2 filtered breakdown, 30d, cold", floor: null, request: cold(v2Named("30d")(30, FILTERED)) },
  { name: "4-step funnel, 30d, cold", floor: null, request: cold(funnelQuery(30, v2Named("30d"))) },
  // The same with today in the range (ours: 29 closed days and the open one, read raw).
  { name: "v2 filtered breakdown, 30 days with today", floor: null, request: v2(30, FILTERED) },
  { name: "4-step funnel, 30 days with today", floor: null, request: funnelQuery(30) },
  // The raw-event path (today, the open day: the busy site's events so far).
  { name: "filtered breakdown (visit + event filter), 1 day", floor: null, request: v2(1, FILTERED) },
  { name: "4-step funnel, 1 day", floor: null, request: funnelQuery(1) },
  { name: "v1 overview, 91 days", floor: null, request: v1("overview", lastDays(91)) },
  { name: "v1 top pages, 91 days", floor: null, request: v1("pages", lastDays(91)) },
  { name: "v1 overview, 12 months", floor: null, request: v1("overview", lastDays(365)) },
  { name: "v1 top pages, 12 months", floor: null, request: v1("pages", lastDays(365)) },
  { name: "v1 sources, 30 days", floor: null, request: v1("sources", { period: "30d" }) },
  { name: "v1 timeseries, 91 days", floor: null, request: v1("timeseries", lastDays(91)) },
];

async function send({ method, path, body, headers = {} }) {
  const start = performance.now();
  const res = await request(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${seed.read_token}`, ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const ms = performance.now() - start;
  if (res.status !== 200) return { refused: `${res.status}: ${JSON.parse(text).message ?? text.slice(0, 200)}` };
  const rows = res.headers.get("x-d1-rows-read");
  if (rows === null) throw new Error(`${method} ${path}: no X-D1-Rows-Read header (not the test-hooks build?)`);
  return { ms, rows: Number(rows), answer: JSON.parse(text) };
}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];

async function measure(query) {
  const first = await send(query.request);
  if (first.refused) return { refused: first.refused };
  for (let i = 1; i < WARMUP; i++) await send(query.request);
  const ms = [];
  const rows = [];
  let answer;
  const deadline = Date.now() + QUERY_SECONDS * 1000;
  while (ms.length < RUNS && (ms.length < 5 || Date.now() < deadline)) {
    const r = await send(query.request);
    ms.push(r.ms);
    rows.push(r.rows);
    answer = r.answer;
  }
  ms.sort((a, b) => a - b);
  rows.sort((a, b) => a - b);
  return { n: ms.length, p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), rows: percentile(rows, 0.5), rowsMax: rows[rows.length - 1], answer };
}

const results = [];
for (const query of QUERIES) {
  if (!query.request) {
    results.push({ name: query.name, floor_ms: query.floor, available: false });
    continue;
  }
  const m = await measure(query);
  if (m.refused) {
    results.push({ name: query.name, floor_ms: query.floor, available: true, refused: m.refused });
    continue;
  }
  results.push({ name: query.name, floor_ms: query.floor, available: true, request: query.request, n: m.n, p50_ms: m.p50, p95_ms: m.p95, rows_read: m.rows, rows_read_max: m.rowsMax });
  // The data is there: a report over the seeded days that counted nothing would measure nothing.
  const pageviews = m.answer.pageviews ?? m.answer.results?.[0]?.metrics?.[2];
  if (query.name.includes("overview") && !(pageviews > 0)) throw new Error(`${query.name}: no pageviews in ${JSON.stringify(m.answer)}`);
}

/**
 * The dashboard's first load in Chromium, a fresh browser context each time (no cache, no
 * session): the page opened with the read token in its link, as `npm start` prints it, for the
 * busy site. Times are from the navigation's start (the page's own performance marks): the top
 * stats shown, the graph drawn, and every panel loaded (read within a frame of it). `cold`: every
 * query the page sends reads D1 (X-Test-Cold), as in a worker that holds nothing yet.
 */
async function dashboardLoads(browser, period, cold) {
  const times = { top: [], graph: [], all: [] };
  for (let i = 0; i < LOADS; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, extraHTTPHeaders: cold ? { "X-Test-Cold": "1" } : {} });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/dashboard/?site=${seed.site}&period=${period}#site=${seed.site}&token=${seed.read_token}`);
    await page.waitForFunction(() => (!document.querySelector('.state.loading, [aria-busy="true"]') && document.querySelector(".chart canvas")) || document.querySelector(".state.error"), null, { timeout: 180_000, polling: "raf" });
    const t = await page.evaluate(() => ({
      top: performance.getEntriesByName("sightline:top-stats")[0]?.startTime,
      graph: performance.getEntriesByName("sightline:graph")[0]?.startTime,
      all: performance.now(),
      error: document.querySelector(".state.error")?.textContent ?? null,
    }));
    await ctx.close();
    if (t.error || t.top === undefined || t.graph === undefined) throw new Error(`dashboard ${period}: ${t.error ?? "no marks"}`);
    for (const k of ["top", "graph", "all"]) times[k].push(t[k]);
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, v.sort((a, b) => a - b)]));
}

const browser = await launch();
for (const [period, label] of [["12mo", "12 months"], ["30d", "30d"]]) {
  for (const cold of [false, true]) {
    const t = await dashboardLoads(browser, period, cold);
    for (const [k, what] of [["top", "top stats"], ["graph", "graph"], ["all", "every panel"]]) {
      results.push({ name: `dashboard first load, ${label}${cold ? ", cold" : ""}: ${what}`, floor_ms: null, available: true, n: LOADS, p50_ms: percentile(t[k], 0.5), p95_ms: percentile(t[k], 0.95), rows_read: "—" });
    }
  }
}
await browser.close();

let build = "unknown";
try {
  build = execFileSync("git", ["describe", "--always", "--dirty"], { encoding: "utf8" }).trim();
} catch {}
if (RESULTS) writeFileSync(RESULTS, JSON.stringify({ build, at: new Date().toISOString(), runs: RUNS, load_seconds: Number(process.env.BENCH_LOAD_SECONDS ?? NaN), compact_seconds: Number(process.env.BENCH_COMPACT_SECONDS ?? NaN), seed, results }, null, 2));

const pad = (s, n) => String(s).padEnd(n);
const left = (s, n) => String(s).padStart(n);
const width = Math.max(...results.map((r) => r.name.length));
console.log(`\nbusy site: ${seed.events_per_day} events a day sent by people, ${seed.days} days of rollups (median ${Math.round(seed.rollup_bytes_median / 1024)} KB a day), ${seed.raw_events} raw events and ${seed.visits} visits of the last 30 days`);
console.log(`build ${build}; ${RUNS} sequential requests per query after ${WARMUP} warm-up, wrangler dev with local D1 on loopback\n`);
console.log(`${pad("query", width)}  ${left("p50 ms", 8)}  ${left("p95 ms", 8)}  ${left("rows read", 10)}  floor (p95)`);
console.log(`${"-".repeat(width)}  ${"-".repeat(8)}  ${"-".repeat(8)}  ${"-".repeat(10)}  -----------`);
for (const r of results) {
  const floor = r.floor_ms === null ? "—" : `≤ ${r.floor_ms} ms`;
  if (!r.available) {
    console.log(`${pad(r.name, width)}  ${pad("n/a on this build", 30)}  ${floor}`);
    continue;
  }
  if (r.refused) {
    console.log(`${pad(r.name, width)}  ${pad(`refused (${r.refused.slice(0, 60)}…)`, 30)}  ${floor}  missed`);
    continue;
  }
  const verdict = r.floor_ms === null ? "" : r.p95_ms <= r.floor_ms ? "  met" : "  missed";
  console.log(`${pad(r.name, width)}  ${left(r.p50_ms.toFixed(1), 8)}  ${left(r.p95_ms.toFixed(1), 8)}  ${left(r.rows_read, 10)}  ${floor}${verdict}`);
}
