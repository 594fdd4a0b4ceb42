// GET /api/sites/{site}/export: a site's raw events and daily aggregates as NDJSON or CSV, admin
// token only, streamed a page at a time. An export round-trips: every stored event comes back
// exactly as D1 holds it (props with commas, quotes, line breaks and non-ASCII included), the CSV
// says the same as the NDJSON (formulas defused), and the days equal the stats API's numbers.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { parse } from "csv-parse/sync";
import { ADMIN_TOKEN, BASE, TOKEN, createSite, d1, event, eventually, request, stats, uid } from "./helpers.mjs";

const SITE = "export-site";
const WRITE = `write-${SITE}`;
const COLUMNS = ["event_id", "ts", "received_at", "name", "hostname", "path", "referrer_host", "source", "channel", "utm_source",
  "utm_medium", "utm_campaign", "utm_term", "utm_content", "country", "device", "browser", "os", "visitor_key", "session_key",
  "order_id", "sender", "props"];
const today = () => new Date().toISOString().slice(0, 10);
const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

/** GETs an export with `query` (the admin token unless told). */
async function exported(query, token = ADMIN_TOKEN, site = SITE) {
  const res = await request(`${BASE}/api/sites/${site}/export?${new URLSearchParams(query)}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The site's stored events as D1 holds them, by id. */
const storedRows = () =>
  new Map(d1(`SELECT ${COLUMNS.join(", ")} FROM events WHERE site_id = '${SITE}'`).map((r) => [r.event_id, r]));

describe("export", () => {
  const sent = [];
  before(async () => {
    await createSite(SITE);
    // 1 150 events (more than one page of 1 000) through the server endpoint, in 100-event
    // requests, with awkward props on some.
    const awkward = { note: 'comma, "quote" and\nline break', city: "Zürich 東京", formula: "=HYPERLINK(\"x\")", n: -3.5, ok: true };
    for (let r = 0; r < 12; r++) {
      const events = Array.from({ length: r < 11 ? 100 : 50 }, (_, i) =>
        event({ name: i % 10 === 0 ? "cart_add" : "pageview", url: `http://localhost/p/${r}-${i}?utm_source=news`, props: i % 10 === 0 ? awkward : undefined }));
      sent.push(...events);
      const res = await request(`${BASE}/api/sites/${SITE}/events`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${WRITE}` },
        body: JSON.stringify({ v: 1, site: SITE, visitor_id: uid("v"), session_id: uid("s"), events }),
      });
      assert.equal(res.status, 202);
    }
    await eventually(() => d1(`SELECT COUNT(*) AS n FROM events WHERE site_id = '${SITE}'`)[0].n === sent.length, 60000, "all events stored");
  });

  test("is the admin's alone, and names a bad parameter", async () => {
    assert.equal((await exported({})).status, 200);
    for (const token of ["", TOKEN, WRITE]) {
      const res = await exported({}, token);
      assert.deepEqual([res.status, JSON.parse(res.text).error], [401, "unauthorized"], `token ${token || "none"}`);
    }
    const unknown = await exported({}, ADMIN_TOKEN, "no-such-site");
    assert.deepEqual([unknown.status, JSON.parse(unknown.text).error], [404, "not_found"]);
    for (const [query, says] of [[{ format: "xml" }, "`format`"], [{ data: "people" }, "`data`"], [{ from: "2026-13-01" }, "`from`"],
      [{ from: "2026-02-02", to: "2026-02-01" }, "after"], [{ since: "x" }, "`since`"]]) {
      const res = await exported(query);
      const body = JSON.parse(res.text);
      assert.deepEqual([res.status, body.error], [400, "invalid_export"], JSON.stringify(query));
      assert.ok(body.message.includes(says), body.message);
    }
  });

  test("events round-trip as NDJSON and CSV, every page", async () => {
    const range = { from: yesterday(), to: today() };
    const nd = await exported({ ...range, format: "ndjson" });
    assert.equal(nd.status, 200);
    assert.match(nd.headers.get("content-type"), /^application\/x-ndjson/);
    assert.match(nd.headers.get("content-disposition"), /attachment; filename="sightline-export-site-events-.*\.ndjson"/);
    const lines = nd.text.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.ok(!/"(ts|received_at)":\d+\.0[,}]/.test(nd.text), "whole numbers are written whole");
    const stored = storedRows();
    assert.equal(lines.length, sent.length);
    assert.equal(new Set(lines.map((l) => l.event_id)).size, sent.length, "each event once across pages");
    for (const line of lines) {
      const row = stored.get(line.event_id);
      assert.deepEqual(Object.keys(line), COLUMNS);
      assert.deepEqual({ ...line, props: JSON.stringify(line.props) }, { ...row, props: JSON.stringify(JSON.parse(row.props)) });
    }
    const awkward = lines.find((l) => l.name === "cart_add");
    assert.equal(awkward.props.note, 'comma, "quote" and\nline break');
    assert.equal(awkward.props.city, "Zürich 東京");
    assert.equal(awkward.utm_source, "news");
    assert.equal(awkward.sender, "server");

    const csv = await exported({ ...range, format: "csv" });
    assert.match(csv.headers.get("content-type"), /^text\/csv/);
    const records = parse(csv.text, { columns: true });
    assert.deepEqual(Object.keys(records[0]), COLUMNS);
    assert.equal(records.length, sent.length);
    const byId = new Map(lines.map((l) => [l.event_id, l]));
    for (const rec of records) {
      const line = byId.get(rec.event_id);
      for (const c of COLUMNS) {
        const want = line[c] === null ? "" : c === "props" ? JSON.stringify(line[c]) : String(line[c]);
        const got = c === "props" ? JSON.stringify(JSON.parse(rec[c])) : rec[c];
        assert.equal(got, /^[=+\-@\t\r]/.test(want) ? `'${want}` : want, `${rec.event_id} ${c}`);
      }
    }
    // A spreadsheet would run "=HYPERLINK(…)" as a formula: the field is defused (it sits inside
    // the props JSON here, so what starts the field is "{"; a bare one is covered in core's tests).
    assert.ok(!csv.text.split("\r\n").some((l) => l.startsWith("=")));

    const none = await exported({ from: "2020-01-01", to: "2020-01-31" });
    assert.equal(none.text, "", "no events then");
  });

  test("days export the daily aggregates the stats API reads", async () => {
    const range = { from: yesterday(), to: today() };
    const nd = await exported({ ...range, data: "days" });
    const days = nd.text.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.ok(days.length >= 1 && days.length <= 2);
    const overview = await stats(SITE, "overview", `period=custom&from=${range.from}&to=${range.to}`);
    const sum = (f) => days.reduce((n, d) => n + (d.data[f] ?? 0), 0);
    assert.equal(sum("pageviews"), overview.body.pageviews);
    assert.equal(sum("visits"), overview.body.visits);
    assert.equal(sum("pageviews"), sent.filter((e) => e.name === "pageview").length);
    const csv = parse((await exported({ ...range, data: "days", format: "csv" })).text, { columns: true });
    assert.deepEqual(csv.map((r) => [r.date, Number(r.pageviews), Number(r.visits)]), days.map((d) => [d.date, d.data.pageviews, d.data.visits]));
  });
});
