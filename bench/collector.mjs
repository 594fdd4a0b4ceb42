// The collector's benchmark (run by scripts/bench-collector.sh against a fresh wrangler dev):
// 1. D1 rows written per stored event on the synthetic mix (tests/traffic/generate.mjs), summed
//    from the consumer's log of D1's own `meta.rows_written` per batch;
// 2. requests/s, p50 and p99 for 1-event and 50-event bodies, the collector beside the empty
//    baseline route (same worker, same wrangler dev: reads the body, answers 202, nothing else).
// Prints one table. Loopback only; every phase is bounded in time.
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { generate } from "../tests/traffic/generate.mjs";
import { BASE, DESKTOP_UA, admin, d1, eventually, replay, request } from "../tests/e2e/helpers.mjs";

const LOG = process.env.SIGHTLINE_DEV_LOG;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const LANES = Number(process.env.BENCH_LANES ?? 16);
// BENCH_MIX=0 skips the synthetic mix (rows per event), for quick load-only runs while tuning.
const MIX = process.env.BENCH_MIX !== "0";
// scripts/bench-collector.sh runs this twice: `with-consumer` (the whole worker), then
// `request-path` (the worker without queue consumers), which prints both phases' rows.
const PHASE = process.env.BENCH_PHASE ?? "with-consumer";
const RESULTS = process.env.BENCH_RESULTS;

async function site(id, timezone = "UTC") {
  await admin("POST", "tenants", { id: "bench", name: "Bench" });
  const made = await admin("POST", "sites", { id, tenant: "bench", domains: [`${id}.example`], timezone, write_token: `write-${id}` });
  if (made.status !== 201 && made.status !== 409) throw new Error(JSON.stringify(made.body));
  return { id, timezone, host: `${id}.example` };
}

function logSince(offset) {
  return readFileSync(LOG, "utf8").slice(offset);
}

async function rowsPerEvent() {
  const sites = [await site("mix-utc"), await site("mix-ber", "Europe/Berlin"), await site("mix-nyc", "America/New_York")];
  const { requests, counts } = generate({ sites, now: Date.now() });
  const offset = statSync(LOG).size;
  const t0 = Date.now();
  await replay(requests);
  const ids = sites.map((s) => `'${s.id}'`).join(",");
  await eventually(() => d1(`SELECT COUNT(*) AS n FROM events WHERE site_id IN (${ids})`)[0].n >= counts.stored, 900_000, "the mix stored");
  await new Promise((r) => setTimeout(r, 3000));
  let events = 0;
  let rows = 0;
  for (const m of logSince(offset).matchAll(/ingest: (\d+) events stored, (\d+) D1 rows written/g)) {
    events += Number(m[1]);
    rows += Number(m[2]);
  }
  return { requests: requests.length, sent: counts.events, stored: counts.stored, events, rows, seconds: (Date.now() - t0) / 1000 };
}

let serial = 0;
function body(siteId, n) {
  const ts = Date.now();
  const tag = (serial++).toString(36);
  return JSON.stringify({
    v: 1,
    site: siteId,
    visitor_id: `bv${tag}`,
    session_id: `bs${tag}`,
    events: Array.from({ length: n }, (_, i) => ({
      id: `b${tag}x${i}`,
      ts: ts + i,
      name: i === 0 ? "pageview" : "cart_add",
      url: `https://${siteId}.example/p/${i % 7}?utm_source=bench`,
      ...(i === 0 ? { referrer: "https://www.google.com/" } : { props: { sku: `s${i}`, qty: 1 } }),
    })),
  });
}

async function load(path, siteId, events) {
  const latencies = [];
  let n = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (Date.now() < deadline) {
        const i = n++;
        const start = performance.now();
        const res = await request(`${BASE}${path}`, {
          method: "POST",
          headers: {
            "Content-Type": "text/plain",
            "User-Agent": DESKTOP_UA,
            Authorization: `Bearer write-${siteId}`,
            // Spread over many /24s: the per-address rate limit is not what is measured here.
            "CF-Connecting-IP": `10.${(i >> 8) & 255}.${i & 255}.1`,
          },
          body: body(siteId, events),
        });
        await res.arrayBuffer();
        if (res.status !== 202) throw new Error(`${path}: ${res.status}`);
        latencies.push(performance.now() - start);
      }
    }),
  );
  const seconds = (Date.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { requests: latencies.length, rps: latencies.length / seconds, p50: q(0.5), p99: q(0.99) };
}

// Waits until the consumer has stored everything enqueued so far (no batch logged for 4 s; the
// queue hands a batch over after at most 2 s), so no phase pays for an earlier phase's backlog.
async function drained() {
  const batches = () => (readFileSync(LOG, "utf8").match(/ingest: \d+ events stored/g) ?? []).length;
  const deadline = Date.now() + 120_000;
  let seen = batches();
  let quietSince = Date.now();
  while (Date.now() - quietSince < 4000 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const now = batches();
    if (now !== seen) [seen, quietSince] = [now, Date.now()];
  }
}

const pad = (s, n) => String(s).padEnd(n);
const num = (x, d = 1) => x.toFixed(d).padStart(9);

const mix = MIX && PHASE === "with-consumer" ? await rowsPerEvent() : null;
const bench = await site("bench-load");
const rows = [];
const label = PHASE === "with-consumer" ? "collector + consumer" : "collector, request path";
for (const events of [1, 50]) {
  await drained();
  await load("/api/bench/empty", bench.id, events); // warm-up
  const empty = await load("/api/bench/empty", bench.id, events);
  await load("/api/collect", bench.id, events); // warm-up (and, with the consumer, its backlog)
  const collect = await load("/api/collect", bench.id, events);
  rows.push([`${events}-event body, empty worker`, empty, null]);
  rows.push([`${events}-event body, ${label}`, collect, collect.rps / empty.rps]);
}

if (PHASE === "with-consumer") {
  if (RESULTS) writeFileSync(RESULTS, JSON.stringify({ mix, rows }));
  else print(mix, [["whole worker (consumer storing on the same cores)", rows]]);
  process.exit(0);
}
const first = RESULTS && existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, "utf8")) : { mix: null, rows: [] };
print(first.mix, [
  ["request path alone (the same worker without queue consumers): the target", rows],
  ["whole worker: its queue consumer stores what is accepted on the same 2 cores", first.rows],
]);
process.exit(0);

function print(mix, groups) {
  if (mix) {
    console.log(`\nsynthetic mix: ${mix.sent} events sent in ${mix.requests} requests (bots, resends, out of order), ${mix.stored} stored; replay and consumer ${mix.seconds.toFixed(0)} s`);
    console.log(`D1 rows written by the consumer: ${mix.rows} for ${mix.events} stored events = ${(mix.rows / mix.events).toFixed(2)} rows per event (floor ≤ 2.0)`);
  }
  for (const [title, group] of groups) {
    if (group.length === 0) continue;
    console.log(`\n${title}`);
    console.log(`${pad("scenario (" + LANES + " concurrent, " + SECONDS + " s)", 40)}  requests      req/s   p50 ms   p99 ms   vs empty`);
    console.log(`${"-".repeat(40)}  --------  ---------  -------  -------  --------`);
    for (const [name, r, ratio] of group) {
      console.log(`${pad(name, 40)}  ${String(r.requests).padStart(8)}  ${num(r.rps)}  ${num(r.p50).slice(2)}  ${num(r.p99).slice(2)}  ${ratio === null ? "       —" : (ratio.toFixed(2) + "×").padStart(8)}`);
    }
  }
  console.log("\ntarget: the collector ≥ 0.5× the empty worker's req/s");
}
