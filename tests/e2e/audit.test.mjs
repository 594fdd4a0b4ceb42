// The audit log: every admin action (tenant and site created, changed, paused, resumed, tokens
// rotated, erased, exported) is recorded with when and by which token's fingerprint — never a
// token or the hash it is checked against — read newest first through GET /api/admin/audit, and
// kept 90 days (the cron deletes older entries).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { ADMIN_TOKEN, BASE, admin, d1, request, uid } from "./helpers.mjs";

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
/** core's `audit::fingerprint`: of the stored hash, so the log holds neither token nor hash. */
const fingerprint = (token) => `sha256:${sha256(sha256(token)).slice(0, 12)}`;

describe("audit log", () => {
  test("records each admin action with the token's fingerprint, newest first, paged", async () => {
    const tenant = uid("t");
    const site = uid("audited");
    assert.equal((await admin("POST", "tenants", { id: tenant, name: "Audited" })).status, 201);
    const made = await admin("POST", "sites", { id: site, tenant, domains: ["shop.example"] });
    assert.equal(made.status, 201);
    assert.equal((await admin("PATCH", `sites/${site}`, { timezone: "Europe/Berlin", retention_days: 60 })).status, 200);
    assert.equal((await admin("PATCH", `sites/${site}`, { active: false })).status, 200);
    assert.equal((await admin("PATCH", `sites/${site}`, { active: true })).status, 200);
    const rotated = await admin("POST", `sites/${site}/tokens`);
    assert.equal(rotated.status, 200);
    const exported = await request(`${BASE}/api/sites/${site}/export?data=days&format=csv&from=2026-01-01&to=2026-01-31`, {
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(exported.status, 200);
    await exported.text();
    assert.equal((await admin("DELETE", `sites/${site}`)).status, 200);

    const raw = await request(`${BASE}/api/admin/audit?limit=100`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.ok(!/"(id|at)":\d+\.0[,}]/.test(await raw.text()), "ids and times are whole numbers");
    const log = await admin("GET", "audit?limit=100");
    assert.equal(log.status, 200);
    const mine = log.body.entries.filter((e) => e.target === site || e.target === tenant);
    assert.deepEqual(
      mine.map((e) => [e.action, e.detail]),
      [
        ["site.erased", {}],
        ["site.exported", { data: "days", format: "csv", from: "2026-01-01", to: "2026-01-31" }],
        ["site.tokens_rotated", {}],
        ["site.resumed", { fields: ["active"] }],
        ["site.paused", { fields: ["active"] }],
        ["site.changed", { fields: ["timezone", "retention_days"] }],
        ["site.created", { tenant }],
        ["tenant.created", {}],
      ],
    );
    assert.ok(mine.every((e) => e.actor === fingerprint(ADMIN_TOKEN)));
    assert.ok(mine.every((e, i) => i === 0 || e.id < mine[i - 1].id), "newest first");
    assert.ok(mine.every((e) => Math.abs(e.at - Date.now()) < 120_000));
    // No secret: neither the admin token, nor the site's tokens, nor any of their hashes.
    const text = JSON.stringify(log.body);
    for (const secret of [ADMIN_TOKEN, made.body.read_token, made.body.write_token, rotated.body.read_token, rotated.body.write_token]) {
      assert.ok(!text.includes(secret) && !text.includes(sha256(secret)) && !text.includes(sha256(secret).slice(0, 12)));
    }
    const stored = JSON.stringify(d1(`SELECT * FROM audit_log WHERE target IN ('${site}', '${tenant}')`));
    assert.ok(!stored.includes(ADMIN_TOKEN) && !stored.includes(sha256(ADMIN_TOKEN)));

    // Paging: two at a time, then on from the last one.
    const first = await admin("GET", "audit?limit=2");
    assert.equal(first.body.entries.length, 2);
    const next = await admin("GET", `audit?limit=2&before=${first.body.next_before}`);
    assert.ok(next.body.entries.every((e) => e.id < first.body.entries[1].id));
  });

  test("is the admin's alone, and names a bad parameter", async () => {
    assert.equal((await admin("GET", "audit", undefined, "")).status, 401);
    assert.equal((await admin("GET", "audit", undefined, "dev-demo-token")).status, 401);
    for (const q of ["limit=0", "limit=501", "before=abc", "since=1"]) {
      const res = await admin("GET", `audit?${q}`);
      assert.deepEqual([res.status, res.body.error], [400, "invalid_parameter"], q);
    }
    assert.equal((await admin("POST", "audit", {})).status, 405);
  });

  test("entries are kept 90 days", async () => {
    const day = 86_400_000;
    const [old, recent] = [uid("old"), uid("recent")];
    d1(`INSERT INTO audit_log (at, action, target, actor, detail) VALUES
        (${Date.now() - 91 * day}, 'site.changed', '${old}', 'sha256:000000000000', '{}'),
        (${Date.now() - 89 * day}, 'site.changed', '${recent}', 'sha256:000000000000', '{}')`);
    const res = await request(`${BASE}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
    assert.equal(res.status, 200);
    const left = d1(`SELECT DISTINCT target FROM audit_log WHERE target IN ('${old}', '${recent}')`).map((r) => r.target);
    assert.deepEqual(left, [recent]);
  });
});
