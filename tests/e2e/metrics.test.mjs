// GET /metrics: the collector's counters in Prometheus' text format, behind METRICS_TOKEN (else the
// admin token), kept in D1 by the queue consumer (so they survive isolate restarts), and accepted by
// `promtool check metrics` (Debian's prometheus package, which `npm test` installs). The ops/
// alert rules pass `promtool check rules` and name only metrics the exposition has.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { before, describe, test } from "node:test";
import { ADMIN_TOKEN, BASE, DESKTOP_UA, ROOT, beacon, collect, createSite, event, eventually, request, uid } from "./helpers.mjs";

const SITE = "metrics-site";

/** GETs /metrics with `token` as bearer (none when empty). */
async function metrics(token = ADMIN_TOKEN, method = "GET") {
  const res = await request(`${BASE}/metrics`, { method, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
}

/** The value of one sample line (`name{labels}`), or undefined. */
function sample(text, name, labels = "") {
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split("\n").find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

const site = (extra = "") => `tenant="tests",site="${SITE}"${extra ? `,${extra}` : ""}`;

describe("GET /metrics", () => {
  before(() => createSite(SITE));

  test("is refused without the metrics or admin token", async () => {
    const none = await metrics("");
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.text).error, "unauthorized");
    assert.equal((await metrics("dev-demo-token")).status, 401, "a site's read token opens no operations data");
    assert.equal((await metrics(ADMIN_TOKEN, "POST")).status, 405);
  });

  test("counts what was stored and dropped, by site and reason, and passes promtool", async () => {
    // Baselines: the suite may run against a D1 that holds an earlier run's counts.
    const before = (await metrics()).text;
    const base = (name, labels = "") => sample(before, name, site(labels)) ?? 0;
    const stored0 = base("sightline_events_stored_total");
    const [bot0, dup0, ts0] = ['reason="bot"', 'reason="duplicate_stored"', 'reason="invalid_timestamp"'].map((r) => base("sightline_events_dropped_total", r));
    const goal0 = base("sightline_conversions_total", 'goal="purchase"');
    const visitor = { visitor_id: uid("v"), session_id: uid("s") };
    const page = event();
    const purchase = event({ name: "purchase", props: { order_id: uid("o"), value: 10, currency: "EUR" } });
    // Two stored, one bad timestamp (the collector's drop, riding on the message).
    const first = await collect({ v: 1, site: SITE, ...visitor, events: [page, purchase, event({ ts: "soon" })] });
    assert.deepEqual([first.status, first.body.accepted, first.body.dropped], [202, 2, 1]);
    const afterFirst = await eventually(async () => {
      const m = (await metrics()).text;
      return sample(m, "sightline_events_stored_total", site()) === stored0 + 2 && m;
    }, 30000, "two events stored counted");
    assert.equal(sample(afterFirst, "sightline_conversions_total", site('goal="purchase"')), goal0 + 1);
    // A bot's beacon (nothing accepted: a message of drops alone) and a resend of a stored event
    // (the consumer's duplicate_stored).
    const bot = await collect(beacon(SITE, [event(), event()]), { headers: { "User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)" } });
    assert.deepEqual([bot.status, bot.body.reasons], [202, { bot: 2 }]);
    const resend = await collect({ v: 1, site: SITE, ...visitor, events: [page] }, { headers: { "User-Agent": DESKTOP_UA } });
    assert.equal(resend.body.accepted, 1);
    const text = await eventually(async () => {
      const m = (await metrics()).text;
      const counted = (labels) => sample(m, "sightline_events_dropped_total", site(labels)) ?? 0;
      return counted('reason="bot"') === bot0 + 2 && counted('reason="duplicate_stored"') === dup0 + 1 && m;
    }, 30000, "the bot's and the resend's drops counted");
    assert.equal(sample(text, "sightline_events_dropped_total", site('reason="invalid_timestamp"')), ts0 + 1);
    assert.equal(sample(text, "sightline_events_stored_total", site()), stored0 + 2, "the resend stored nothing");
    const last = sample(text, "sightline_last_stored_timestamp_seconds", site());
    assert.ok(Math.abs(last - Date.now() / 1000) < 300, `last stored ${last}`);
    assert.ok(sample(text, "sightline_queue_batches_total") >= 2, "the first message, then the bot's and the resend's (one batch or two)");
    assert.ok(sample(text, "sightline_d1_rows_written_total") > 0, "the first batch's rows, added with a later one");
    assert.ok(sample(text, "sightline_d1_write_seconds_count") > 0);
    assert.ok(sample(text, "sightline_queue_message_age_seconds") >= 0);

    const answer = await metrics();
    assert.match(answer.type, /^text\/plain; version=0\.0\.4/);
    execFileSync("promtool", ["check", "metrics"], { input: answer.text, encoding: "utf8" });
  });

  test("stats queries are timed: at most 50 of them wait in an isolate before they are written", async () => {
    const count = async () => sample((await metrics()).text, "sightline_query_seconds_count") ?? 0;
    const before = await count();
    for (let i = 0; i < 50; i++) {
      const res = await request(`${BASE}/api/sites/demo/stats/overview?period=7d`, { headers: { Authorization: "Bearer dev-demo-token" } });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    const after = await count();
    assert.ok(after > before, `query count ${before} → ${after}`);
    const text = (await metrics()).text;
    assert.ok(sample(text, "sightline_query_seconds_sum") > 0);
    assert.equal(sample(text, "sightline_query_seconds_bucket", 'le="+Inf"'), after);
  });

  test("ops/ alert rules pass promtool and use only metrics the exposition has", async () => {
    const rules = resolve(ROOT, "ops/prometheus/alerts.yml");
    const out = execFileSync("promtool", ["check", "rules", rules], { encoding: "utf8" });
    assert.match(out, /SUCCESS: 6 rules found/);
    // Each alert fires on series that call for it and stays quiet on healthy ones.
    const tested = execFileSync("promtool", ["test", "rules", "alerts.test.yml"], { cwd: resolve(ROOT, "ops/prometheus"), encoding: "utf8" });
    assert.match(tested, /SUCCESS/);
    const { text } = await metrics();
    const exposed = new Set(text.split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]));
    const names = (source) => [...source.matchAll(/\bsightline_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ""));
    for (const name of names(readFileSync(rules, "utf8"))) assert.ok(exposed.has(name), `alerts.yml names ${name}`);
    const dashboard = readFileSync(resolve(ROOT, "ops/grafana/sightline.json"), "utf8");
    const parsed = JSON.parse(dashboard);
    assert.deepEqual(parsed.templating.list.map((v) => v.name).sort(), ["datasource", "site", "tenant"]);
    for (const name of names(dashboard)) assert.ok(exposed.has(name), `the dashboard names ${name}`);
    // Every panel's query is valid PromQL: checked as recording rules, Grafana's variables filled in.
    const exprs = parsed.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const filled = exprs.map((e) => e.replaceAll("$tenant", ".*").replaceAll("$site", ".*").replaceAll("$__rate_interval", "5m"));
    const dir = mkdtempSync(join(tmpdir(), "sightline-dashboard-"));
    const asRules = { groups: [{ name: "dashboard", rules: filled.map((expr, i) => ({ record: `dashboard:panel_${i}`, expr })) }] };
    writeFileSync(join(dir, "panels.yml"), JSON.stringify(asRules)); // JSON is YAML
    const checked = execFileSync("promtool", ["check", "rules", join(dir, "panels.yml")], { encoding: "utf8" });
    assert.match(checked, new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });
});
