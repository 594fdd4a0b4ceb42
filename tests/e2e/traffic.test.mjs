// The synthetic log (tests/traffic/generate.mjs) replayed through the real worker: more than 20 000
// events over 14 days for three sites in three time zones, with bots, strict-mode visitors, SPA
// visits, orders reported twice, resends and out-of-order delivery. Every rollup row in D1 must equal
// the generator's independently computed expectation, and the stats API must report the same.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { generate } from "../traffic/generate.mjs";
import { createSite, d1, eventually, replay, stats, uid } from "./helpers.mjs";

const DAY_MS = 86400000;
const run = uid("").slice(-6);
const SITES = [
  { id: `gen-utc-${run}`, timezone: "UTC" },
  { id: `gen-ber-${run}`, timezone: "Europe/Berlin" },
  { id: `gen-nyc-${run}`, timezone: "America/New_York" },
].map((s) => ({ ...s, host: `${s.id}.example` }));

/** A rollup as compared: zero counts and empty maps dropped, amounts rounded to cents. */
function normal(day) {
  const clean = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== 0));
  const dims = {};
  for (const [d, values] of Object.entries(day.dims ?? {})) {
    const kept = {};
    for (const [value, t] of Object.entries(values)) {
      const x = clean({ u: t.u ?? 0, n: t.n ?? 0, a: Math.round((t.a ?? 0) * 100) / 100 });
      if (Object.keys(x).length) kept[value] = x;
    }
    if (Object.keys(kept).length) dims[d] = kept;
  }
  const hours = {};
  for (const [h, x] of Object.entries(day.hours ?? {})) {
    const c = clean(x);
    if (Object.keys(c).length) hours[h] = c;
  }
  const vitals = {};
  for (const [m, buckets] of Object.entries(day.vitals ?? {})) {
    const c = clean(buckets);
    if (Object.keys(c).length) vitals[m] = Object.fromEntries(Object.entries(c).map(([b, n]) => [String(b), n]));
  }
  return {
    ...clean({ pageviews: day.pageviews ?? 0, visitors: day.visitors ?? 0, visits: day.visits ?? 0, bounces: day.bounces ?? 0, duration_ms: day.duration_ms ?? 0 }),
    hours, dims, vitals,
  };
}

describe("synthetic traffic", () => {
  test("a replayed 14-day log gives exactly the expected rollups and reports", { timeout: 900_000 }, async () => {
    for (const s of SITES) await createSite(s.id, [s.host], { timezone: s.timezone });
    const now = Date.now();
    const { requests, expected, counts } = generate({ sites: SITES, now });
    assert.ok(counts.events >= 20000, `at least 20 000 events (${counts.events})`);

    const t0 = Date.now();
    const answers = await replay(requests);
    const seconds = (Date.now() - t0) / 1000;
    console.log(`replayed ${counts.requests} requests (${counts.events} events) in ${seconds.toFixed(1)} s`);
    assert.ok(answers.bot >= counts.bots, "every bot event was dropped (resent ones again)");

    const ids = SITES.map((s) => `'${s.id}'`).join(",");
    const stored = () => d1(`SELECT COUNT(*) AS n FROM events WHERE site_id IN (${ids})`)[0].n;
    await eventually(() => stored() >= counts.stored, 600_000, `${counts.stored} stored events`);
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(stored(), counts.stored, "each event stored once: no loss, no double");

    // Every rollup row, field by field.
    const rows = d1(`SELECT site_id, day, data FROM rollups WHERE site_id IN (${ids}) ORDER BY site_id, day`);
    for (const s of SITES) {
      const actual = Object.fromEntries(rows.filter((r) => r.site_id === s.id).map((r) => [r.day, normal(JSON.parse(r.data))]));
      const wanted = Object.fromEntries(Object.entries(expected[s.id]).map(([day, d]) => [day, normal(d)]));
      assert.deepEqual(Object.keys(actual).sort(), Object.keys(wanted).sort(), `${s.id}: the days with data`);
      for (const day of Object.keys(wanted)) assert.deepEqual(actual[day], wanted[day], `${s.id}, day ${day}`);
    }

    // The stats API over the same data: per-day overviews and whole-range breakdowns.
    for (const s of SITES) {
      const days = Object.keys(expected[s.id]).map(Number).sort((a, b) => a - b);
      const date = (day) => new Date(day * DAY_MS).toISOString().slice(0, 10);
      const range = `period=custom&from=${date(days[0])}&to=${date(days[days.length - 1])}`;
      const series = (await stats(s.id, "timeseries", range, "dev-demo-token")).body.results;
      for (const day of days) {
        const e = expected[s.id][day];
        const point = series.find((p) => p.date === date(day));
        assert.deepEqual(point, { date: date(day), pageviews: e.pageviews, visitors: e.visitors }, `${s.id} ${date(day)}`);
      }
      const total = (key) => days.reduce((n, day) => n + expected[s.id][day][key], 0);
      const overview = (await stats(s.id, "overview", range, "dev-demo-token")).body;
      assert.equal(overview.pageviews, total("pageviews"));
      assert.equal(overview.visitors, total("visitors"));
      assert.equal(overview.visits, total("visits"));
      assert.equal(overview.bounce_rate, Math.round((100 * total("bounces")) / total("visits")));
      assert.equal(overview.visit_duration, Math.round(total("duration_ms") / total("visits") / 1000));
      for (const report of ["pages", "entry-pages", "exit-pages", "channels", "sources", "browsers", "devices", "os", "countries", "events", "goals"]) {
        const merged = {};
        for (const day of days) {
          for (const [value, t] of Object.entries(expected[s.id][day].dims[report] ?? {})) {
            const m = (merged[value] ??= { visitors: 0, count: 0 });
            m.visitors += t.u;
            m.count += t.n;
          }
        }
        const results = (await stats(s.id, report, range, "dev-demo-token")).body.results;
        const got = Object.fromEntries(results.map((r) => [r.value, { visitors: r.visitors, count: r.count }]));
        const label = { sources: "Direct / None", channels: "Direct / None", referrers: "Direct / None" }[report] ?? "(unknown)";
        const want = Object.fromEntries(Object.entries(merged).filter(([, m]) => m.count > 0 || m.visitors > 0).map(([v, m]) => [v || label, m]));
        assert.deepEqual(got, want, `${s.id} ${report}`);
      }
    }
  });
});
