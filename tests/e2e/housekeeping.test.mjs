// The cron (wrangler dev --test-scheduled exposes it at /__scheduled): raw events past their site's
// retention (and received over 48 hours ago: ids are remembered that long) and salts older than two
// days are deleted; newer ones stay.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BASE, beacon, collect, createSite, d1, event, request, storedEvents, uid } from "./helpers.mjs";

describe("housekeeping cron", () => {
  test("purges raw events past retention and old salts, keeps the rest", async () => {
    const site = await createSite(`t-retain-${uid("")}`.slice(0, 40), undefined, { retention_days: 2 });
    const old = event({ ts: Date.now() - 3 * 86400_000, url: "http://localhost/old" });
    const fresh = event({ url: "http://localhost/fresh" });
    assert.equal((await collect(beacon(site, [old, fresh]))).body.accepted, 2);
    await storedEvents(site, 2);
    // Both were received over 48 hours ago: only the old one is past retention.
    d1(`UPDATE events SET received_at = received_at - 49 * 3600000 WHERE site_id = '${site}'`);
    const today = Math.floor(Date.now() / 86400_000);
    d1(`INSERT OR IGNORE INTO salts (day, salt) VALUES (${today - 5}, 'stale-salt')`);

    const res = await request(`${BASE}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
    assert.equal(res.status, 200);
    const ids = d1(`SELECT event_id FROM events WHERE site_id = '${site}'`).map((r) => r.event_id);
    assert.deepEqual(ids, [fresh.id]);
    assert.equal(d1(`SELECT COUNT(*) AS n FROM salts WHERE day = ${today - 5}`)[0].n, 0);
    assert.ok(d1(`SELECT COUNT(*) AS n FROM salts WHERE day = ${today}`)[0].n >= 1, "today's salt stays");
  });
});
