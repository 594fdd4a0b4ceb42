// The admin API against the real worker: auth, validation with named fields, tenants, sites, token
// rotation, write tokens for server-side senders, and erasure.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { admin, beacon, collect, event, stats, uid } from "./helpers.mjs";

describe("admin API", () => {
  test("refuses requests without the admin token, and bad bodies with the field named", async () => {
    assert.equal((await admin("GET", "tenants", undefined, "")).status, 401);
    const wrong = await admin("GET", "tenants", undefined, "not-the-admin-token");
    assert.deepEqual([wrong.status, wrong.body.error], [401, "unauthorized"]);
    const notJson = await admin("POST", "tenants", "{nope");
    assert.deepEqual([notJson.status, notJson.body.error], [400, "invalid_json"]);
    const badTz = await admin("POST", "sites", { id: "x", tenant: "tests", domains: ["a.example"], timezone: "Mars/Base" });
    assert.equal(badTz.status, 400);
    assert.match(badTz.body.message, /`timezone`/);
    const noTenant = await admin("POST", "sites", { id: uid("s"), tenant: uid("nobody"), domains: ["a.example"] });
    assert.deepEqual([noTenant.status, noTenant.body.error], [404, "not_found"]);
    assert.equal((await admin("PUT", "tenants", {})).status, 405);
    assert.equal((await admin("GET", "nothing-here")).status, 404);
  });

  test("tenants and sites: create, read, change, rotate tokens, erase", async () => {
    const tenant = uid("t");
    assert.equal((await admin("POST", "tenants", { id: tenant, name: "Acme" })).status, 201);
    assert.equal((await admin("POST", "tenants", { id: tenant })).status, 409);
    assert.ok((await admin("GET", "tenants")).body.tenants.some((t) => t.id === tenant && t.name === "Acme"));

    const id = uid("site");
    const made = await admin("POST", "sites", {
      id, tenant, domains: ["Shop.Example"], timezone: "Europe/Berlin", retention_days: 60,
      ga4_measurement_id: "G-TEST123", umami_website_id: "0f8e6c1a-3b2d-4e5f-9a7b-1c2d3e4f5a6b",
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.match(made.body.read_token, /^[0-9a-f]{64}$/);
    assert.match(made.body.write_token, /^[0-9a-f]{64}$/);
    assert.deepEqual(
      { ...made.body.site, created_at: 0 },
      { id, tenant, domains: ["shop.example"], timezone: "Europe/Berlin", retention_days: 60, aggregate_retention_days: 0, ga4_measurement_id: "G-TEST123",
        umami_website_id: "0f8e6c1a-3b2d-4e5f-9a7b-1c2d3e4f5a6b", active: true, created_at: 0,
        forwarding: { ga4: { mode: "off", page_events: [] }, umami: { mode: "off", page_events: [] } } },
    );
    assert.equal((await admin("POST", "sites", { id, tenant, domains: ["x.example"] })).status, 409);
    assert.equal((await stats(id, "overview", "period=today", made.body.read_token)).status, 200);

    const changed = await admin("PATCH", `sites/${id}`, { domains: ["shop.example", "localhost"], ga4_measurement_id: null });
    assert.equal(changed.status, 200);
    assert.deepEqual(changed.body.domains, ["localhost", "shop.example"]);
    assert.equal(changed.body.ga4_measurement_id, null);
    assert.equal(changed.body.timezone, "Europe/Berlin");

    // A server-side sender: its write token replaces the Origin check; a wrong one is refused.
    const body = beacon(id, [event({ url: "https://shop.example/server" })]);
    const foreign = { Origin: "https://elsewhere.example" };
    assert.equal((await collect(body, { headers: foreign })).status, 403);
    const server = await collect(body, { headers: { ...foreign, Authorization: `Bearer ${made.body.write_token}` } });
    assert.equal(server.status, 202, JSON.stringify(server.body));
    const bad = await collect(body, { headers: { Authorization: "Bearer not-the-write-token" } });
    assert.deepEqual([bad.status, bad.body.error], [401, "unauthorized"]);

    const rotated = await admin("POST", `sites/${id}/tokens`);
    assert.equal(rotated.status, 200);
    assert.equal((await stats(id, "overview", "period=today", made.body.read_token)).status, 401);
    assert.equal((await stats(id, "overview", "period=today", rotated.body.read_token)).status, 200);

    const paused = await admin("PATCH", `sites/${id}`, { active: false });
    assert.equal(paused.body.active, false);
    assert.equal((await collect(beacon(id, [event()]))).status, 403);

    assert.equal((await admin("DELETE", `sites/${id}`)).status, 200);
    assert.equal((await admin("GET", `sites/${id}`)).status, 404);
    assert.equal((await stats(id, "overview", "period=today", rotated.body.read_token)).status, 401);
    assert.equal((await admin("DELETE", `sites/${id}`)).status, 404);
  });
});
