// GDPR erasure: DELETE /api/sites/{site}/visitors/{id} and /users/{id} (admin token) remove exactly
// that person's raw events and visits and take their counts out of the daily rollups — the reports
// then read as if the person had never come — and the audit log records it without the id.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { ADMIN_TOKEN, BASE, TOKEN, admin, collect, createSite, d1, event, request, stats, storedEvents, uid } from "./helpers.mjs";

const SITE = "erase-site";

/** DELETEs a person (the admin token unless told). */
async function erase(kind, id, token = ADMIN_TOKEN, method = "DELETE") {
  const res = await request(`${BASE}/api/sites/${SITE}/${kind}/${id}`, { method, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

/** POSTs an erasure with the id in the body (the admin token unless told). */
async function erasures(body, token = ADMIN_TOKEN) {
  const res = await request(`${BASE}/api/sites/${SITE}/erasures`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const eventIds = () => d1(`SELECT event_id FROM events WHERE site_id = '${SITE}'`).map((r) => r.event_id).sort();
/** The event ids the recent log (migration 0017) holds for the site. */
const recentIds = () =>
  d1(`SELECT e.value ->> 1 AS id FROM recent_events r, json_each(r.data) e WHERE r.site_id = '${SITE}'`).map((r) => r.id).sort();
const goal = async (name) => (await stats(SITE, "goals")).body.results.find((r) => r.value === name)?.count ?? 0;

describe("erasure of one person", () => {
  const [vA, vB, vU, user] = [uid("va"), uid("vb"), uid("vu"), uid("user")];
  const a = [event({ url: "http://localhost/" }), event({ url: "http://localhost/shoes" }),
    event({ name: "purchase", url: "http://localhost/thanks", props: { order_id: uid("o"), value: 30, currency: "EUR" } })];
  const b = [event({ url: "http://localhost/" })];
  const u = [event({ url: "http://localhost/account" }), event({ name: "signup_completed", url: "http://localhost/account" })];

  before(async () => {
    await createSite(SITE);
    for (const [ids, events] of [[{ visitor_id: vA }, a], [{ visitor_id: vB }, b], [{ visitor_id: vU, user_id: user }, u]]) {
      const res = await collect({ v: 1, site: SITE, session_id: uid("s"), ...ids, events });
      assert.equal(res.body.accepted, events.length);
    }
    await storedEvents(SITE, a.length + b.length + u.length, 30000);
  });

  test("a visitor's events, visits and counts go; everyone else's stay", async () => {
    const before = (await stats(SITE, "overview")).body;
    assert.deepEqual([before.pageviews, before.visits, before.visitors], [4, 3, 3]);
    assert.equal(await goal("purchase"), 1);

    assert.deepEqual(recentIds(), eventIds(), "the recent log holds exactly the stored events");
    const res = await erase("visitors", vA);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.erased, { events: 3, visits: 1, days_adjusted: 1 });
    assert.match(res.body.linkable_since, /^\d{4}-\d{2}-\d{2}$/);
    assert.deepEqual(eventIds(), [...b, ...u].map((e) => e.id).sort());
    assert.deepEqual(recentIds(), eventIds(), "the erased events left the recent log too");
    assert.equal(d1(`SELECT COUNT(*) AS n FROM sessions WHERE site_id = '${SITE}'`)[0].n, 2);

    const after = (await stats(SITE, "overview")).body;
    assert.deepEqual([after.pageviews, after.visits, after.visitors], [2, 2, 2]);
    assert.equal(await goal("purchase"), 0);
    const pages = (await stats(SITE, "pages")).body.results;
    assert.ok(!pages.some((p) => p.value === "/shoes" && (p.count > 0 || p.visitors > 0)), JSON.stringify(pages));
    assert.equal(pages.find((p) => p.value === "/").count, 1);
    // The raw-event path (the query API) no longer sees them either.
    const res2 = await request(`${BASE}/api/v2/query`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ site_id: SITE, date_range: "day", metrics: ["visitors", "pageviews"], filters: [["is", "event:page", ["/shoes"]]] }),
    });
    assert.deepEqual((await res2.json()).results[0].metrics, [0, 0]);

    const again = await erase("visitors", vA);
    assert.deepEqual(again.body.erased, { events: 0, visits: 0, days_adjusted: 0 }, "nothing left to erase");
  });

  test("a signed-in user is erased by the id the site gave identify(), sent in a body", async () => {
    const res = await erasures({ user_id: user });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.erased, { events: 2, visits: 1, days_adjusted: 1 });
    assert.deepEqual(eventIds(), b.map((e) => e.id));
    const after = (await stats(SITE, "overview")).body;
    assert.deepEqual([after.pageviews, after.visits, after.visitors], [1, 1, 1]);
    assert.equal(await goal("signup_completed"), 0);
  });

  test("is the admin's alone, checks the id, and is audited without it", async () => {
    for (const token of ["", TOKEN, `write-${SITE}`]) {
      assert.equal((await erase("visitors", vB, token)).status, 401, `token ${token || "none"}`);
    }
    const bad = await erase("visitors", "not%20an%20id");
    assert.deepEqual([bad.status, bad.body.error], [400, "invalid_parameter"]);
    assert.equal((await erase("visitors", "x".repeat(65))).status, 400);
    assert.equal((await erase("visitors", vB, ADMIN_TOKEN, "GET")).status, 405);
    assert.equal((await erasures({ visitor_id: vB }, TOKEN)).status, 401);
    for (const body of ["{nope", "[]", {}, { visitor_id: vB, user_id: user }, { visitor_id: 7 }, { email: "a@b.c" }, { user_id: "x y" }]) {
      const res = await erasures(body);
      assert.deepEqual([res.status, res.body.error], [400, "invalid_parameter"], JSON.stringify(body));
    }
    const unknown = await request(`${BASE}/api/sites/no-such-site/visitors/${vB}`, { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(unknown.status, 404);
    assert.deepEqual(eventIds(), b.map((e) => e.id), "none of it erased anything");

    const log = (await admin("GET", "audit?limit=50")).body.entries.filter((e) => e.target === SITE && e.action === "person.erased");
    assert.deepEqual(log.map((e) => e.detail), [
      { kind: "user", events: 2, visits: 1 },
      { kind: "visitor", events: 0, visits: 0 },
      { kind: "visitor", events: 3, visits: 1 },
    ]);
    const text = JSON.stringify(d1(`SELECT * FROM audit_log WHERE target = '${SITE}'`));
    for (const id of [vA, user]) assert.ok(!text.includes(id), "the id is not in the log");
  });
  test("a tenant's token opens its own sites' erasures and exports, no other's", async () => {
    assert.equal((await admin("POST", "tenants/no-such-tenant/token")).status, 404);
    const made = await admin("POST", "tenants/tests/token");
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const tenantToken = made.body.token;
    assert.match(tenantToken, /^[0-9a-f]{64}$/);
    await admin("POST", "tenants", { id: "other-tenant" });
    const other = await admin("POST", "sites", { id: "erase-other", tenant: "other-tenant", domains: ["localhost"] });
    assert.ok([201, 409].includes(other.status));
    const exportOf = (site, token) =>
      request(`${BASE}/api/sites/${site}/export?data=days&format=ndjson&from=2026-01-01&to=2026-01-02`, { headers: { Authorization: `Bearer ${token}` } });

    const nobody = uid("vn");
    const res = await erase("visitors", nobody, tenantToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.erased, { events: 0, visits: 0, days_adjusted: 0 });
    const exported = await exportOf(SITE, tenantToken);
    assert.equal(exported.status, 200);
    await exported.text();
    // Another tenant's site: refused, and not told apart from a site that does not exist.
    for (const site of ["erase-other", "no-such-site"]) {
      const foreign = await request(`${BASE}/api/sites/${site}/visitors/${nobody}`, { method: "DELETE", headers: { Authorization: `Bearer ${tenantToken}` } });
      assert.equal(foreign.status, 401, site);
      assert.equal((await exportOf(site, tenantToken)).status, 401, site);
    }
    // It opens nothing else: not the admin API, not the stats.
    assert.equal((await admin("GET", "tenants", undefined, tenantToken)).status, 401);
    assert.equal((await stats(SITE, "overview", undefined, tenantToken)).status, 401);
    // Made anew, the old one stops working.
    const again = await admin("POST", "tenants/tests/token");
    assert.equal((await erase("visitors", nobody, tenantToken)).status, 401);
    assert.equal((await erase("visitors", nobody, again.body.token)).status, 200);
    const log = (await admin("GET", "audit?limit=20")).body.entries;
    assert.equal(log.filter((e) => e.action === "tenant.token_rotated" && e.target === "tests").length >= 2, true);
    assert.ok(!JSON.stringify(log).includes(tenantToken), "the token is not in the log");
  });
});
