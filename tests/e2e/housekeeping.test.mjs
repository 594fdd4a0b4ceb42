// The cron (wrangler dev --test-scheduled exposes it at /__scheduled): raw events past their site's
// retention (and received over 48 hours ago: ids are remembered that long), daily aggregates and
// summed periods past its retention of aggregates (when set), and salts older than two days are
// deleted; newer ones stay.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BASE, admin, beacon, collect, createSite, d1, event, request, storedEvents, uid } from "./helpers.mjs";

describe("housekeeping cron", () => {
  test("keeps aggregates as long as the site by default, else its retention of aggregates", async () => {
    const today = Math.floor(Date.now() / 86400_000);
    const [kept, limited] = [uid("agg-all"), uid("agg-year")].map((s) => s.slice(0, 40));
    await createSite(kept);
    await createSite(limited, undefined, { aggregate_retention_days: 365 });
    const bad = await admin("PATCH", `sites/${limited}`, { aggregate_retention_days: 30 });
    assert.deepEqual([bad.status, bad.body.error], [400, "invalid_field"]);
    assert.match(bad.body.message, /`aggregate_retention_days`/);
    for (const site of [kept, limited]) {
      for (const day of [today - 400, today - 300]) {
        d1(`INSERT OR IGNORE INTO day_parts (site_id, day, part, version, data) VALUES ('${site}', ${day}, 'totals', 1, '{"pageviews":1}')`);
      }
      d1(`INSERT OR IGNORE INTO period_parts (site_id, part, first_day, last_day, stamp, data)
          VALUES ('${site}', 'totals', ${today - 420}, ${today - 400}, 1, '{"pageviews":1}')`);
    }
    const res = await request(`${BASE}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
    assert.equal(res.status, 200);
    const days = (site) => d1(`SELECT day FROM day_parts WHERE site_id = '${site}' ORDER BY day`).map((r) => r.day);
    // (The cron also sums closed weeks and months of the days it keeps: only the inserted one counts.)
    const periods = (site) =>
      d1(`SELECT COUNT(*) AS n FROM period_parts WHERE site_id = '${site}' AND first_day = ${today - 420} AND last_day = ${today - 400}`)[0].n;
    assert.deepEqual(days(kept), [today - 400, today - 300]);
    assert.equal(periods(kept), 1);
    assert.deepEqual(days(limited), [today - 300]);
    assert.equal(periods(limited), 0);
  });

  test("purges raw events past retention and old salts, keeps the rest", async () => {
    // A UTC site keeping 2 days: today and the 2 whole days before it stay (the purge cuts a
    // UTC day before those, so no zone's kept day is ever cut).
    const site = await createSite(`t-retain-${uid("")}`.slice(0, 40), undefined, { retention_days: 2 });
    const today = Math.floor(Date.now() / 86400_000);
    const old = event({ ts: (today - 4) * 86400_000 + 12 * 3600_000, url: "http://localhost/old" });
    const firstKept = event({ ts: (today - 2) * 86400_000 + 60_000, url: "http://localhost/first-kept" });
    const fresh = event({ url: "http://localhost/fresh" });
    assert.equal((await collect(beacon(site, [old, firstKept, fresh]))).body.accepted, 3);
    await storedEvents(site, 3);
    // All were received over 48 hours ago: only the old one is past retention.
    d1(`UPDATE events SET received_at = received_at - 49 * 3600000 WHERE site_id = '${site}'`);
    d1(`INSERT OR IGNORE INTO salts (day, salt) VALUES (${today - 5}, 'stale-salt')`);

    const res = await request(`${BASE}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
    assert.equal(res.status, 200);
    const ids = d1(`SELECT event_id FROM events WHERE site_id = '${site}'`).map((r) => r.event_id);
    assert.deepEqual(ids.sort(), [firstKept.id, fresh.id].sort());
    assert.equal(d1(`SELECT COUNT(*) AS n FROM salts WHERE day = ${today - 5}`)[0].n, 0);
    assert.ok(d1(`SELECT COUNT(*) AS n FROM salts WHERE day = ${today}`)[0].n >= 1, "today's salt stays");
  });
});
