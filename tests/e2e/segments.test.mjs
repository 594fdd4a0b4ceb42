// Saved segments and funnels against the real worker: create, list, get and delete both kinds; who
// may do what (no token, a wrong one, another site's, the site's read token, the admin token); bad
// bodies answered 4xx with the fault named, never 5xx; CORS; and a deleted site's definitions gone.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { execFileSync } from "node:child_process";
import { ADMIN_TOKEN, BASE, ROOT, admin, createSite, d1, request, siteApi, uid } from "./helpers.mjs";

const KINDS = ["segments", "funnels"];
const SEGMENT = {
  name: "Mobile from Google",
  filters: [["is", "visit:device", ["Mobile"]], ["is", "visit:source", ["Google"]]],
};
const FUNNEL = {
  name: "Checkout",
  steps: [{ page: "/products/*" }, { event: "cart_add", props: { plan: "pro" } }, { page: "/checkout/**" }, { event: "purchase" }],
};
const BODY = { segments: SEGMENT, funnels: FUNNEL };

/** A site of its own with its own read token (createSite's default token is shared by the suite). */
async function site(prefix) {
  const id = `${prefix}-${uid("")}`.slice(0, 40);
  const read = `read-${uid("")}`;
  await createSite(id, ["localhost"], { read_token: read });
  return { id, read };
}

/** The admin creates one; asserts 201 and answers what was stored. */
async function make(siteId, kind, body = BODY[kind]) {
  const made = await siteApi("POST", siteId, kind, { body, token: ADMIN_TOKEN });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made.body;
}

describe("saved segments and funnels", () => {
  let a;
  let b;
  before(async () => {
    a = await site("t-seg-a");
    b = await site("t-seg-b");
  });

  test("segments: create, list, get, delete; ids are never reused", async () => {
    const first = await make(a.id, "segments");
    assert.equal(typeof first.id, "number");
    assert.ok(first.created_at > Date.now() - 60_000);
    assert.deepEqual({ ...first, id: 0, created_at: 0 }, { ...SEGMENT, id: 0, created_at: 0 });
    const second = await make(a.id, "segments", { name: "Staff", filters: [["is", "event:internal", ["true"]]] });
    assert.ok(second.id > first.id);

    const list = await siteApi("GET", a.id, "segments", { token: a.read });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { segments: [first, second] });
    const one = await siteApi("GET", a.id, `segments/${first.id}`, { token: a.read });
    assert.deepEqual([one.status, one.body], [200, first]);

    const gone = await siteApi("DELETE", a.id, `segments/${first.id}`, { token: ADMIN_TOKEN });
    assert.deepEqual([gone.status, gone.body], [200, { deleted: first.id }]);
    const missing = await siteApi("GET", a.id, `segments/${first.id}`, { token: a.read });
    assert.deepEqual([missing.status, missing.body.error], [404, "not_found"]);
    assert.equal((await siteApi("DELETE", a.id, `segments/${first.id}`, { token: ADMIN_TOKEN })).status, 404);
    assert.deepEqual((await siteApi("GET", a.id, "segments", { token: a.read })).body, { segments: [second] });
    const third = await make(a.id, "segments");
    assert.ok(third.id > second.id, "a deleted id is not given again");
    // Another site's id is not found through this site.
    assert.equal((await siteApi("GET", b.id, `segments/${third.id}`, { token: b.read })).status, 404);
    assert.equal((await siteApi("DELETE", b.id, `segments/${third.id}`, { token: ADMIN_TOKEN })).status, 404);
    assert.equal((await siteApi("GET", a.id, `segments/${third.id}`, { token: a.read })).status, 200);
  });

  test("funnels: create (stored canonical), list, get, delete", async () => {
    const made = await make(a.id, "funnels");
    assert.deepEqual({ ...made, id: 0, created_at: 0 }, { ...FUNNEL, within: "visit", id: 0, created_at: 0 });
    const hours = await make(a.id, "funnels", {
      name: "Come back",
      within: { hours: 24 },
      steps: [{ page: "/" }, { event: "signup_completed", props: { b: "2", a: "1" } }],
    });
    assert.deepEqual(hours.within, { hours: 24 });
    assert.deepEqual(Object.keys(hours.steps[1].props), ["a", "b"]);
    const list = await siteApi("GET", a.id, "funnels", { token: a.read });
    assert.deepEqual([list.status, list.body], [200, { funnels: [made, hours] }]);
    assert.deepEqual((await siteApi("GET", a.id, `funnels/${hours.id}`, { token: ADMIN_TOKEN })).body, hours);
    assert.equal((await siteApi("DELETE", a.id, `funnels/${made.id}`, { token: ADMIN_TOKEN })).status, 200);
    assert.deepEqual((await siteApi("GET", a.id, "funnels", { token: a.read })).body, { funnels: [hours] });
  });

  test("who may do what: none, a wrong token, another site's, the read token, the admin token", async () => {
    const callers = { none: "", wrong: "not-a-token-of-anyone", other: b.read, read: a.read, admin: ADMIN_TOKEN };
    for (const kind of KINDS) {
      const existing = await make(a.id, kind);
      const calls = {
        list: (token) => siteApi("GET", a.id, kind, { token }),
        one: (token) => siteApi("GET", a.id, `${kind}/${existing.id}`, { token }),
        create: (token) => siteApi("POST", a.id, kind, { body: BODY[kind], token }),
        delete: (token) => siteApi("DELETE", a.id, `${kind}/${existing.id}`, { token }),
      };
      const expected = {
        none: { list: 401, one: 401, create: 401, delete: 401 },
        wrong: { list: 401, one: 401, create: 401, delete: 401 },
        other: { list: 401, one: 401, create: 401, delete: 401 },
        read: { list: 200, one: 200, create: 403, delete: 403 },
        admin: { list: 200, one: 200, create: 201, delete: 200 },
      };
      for (const [who, token] of Object.entries(callers)) {
        for (const [call, run] of Object.entries(calls)) {
          const res = await run(token);
          assert.equal(res.status, expected[who][call], `${kind} ${call} by ${who}: ${JSON.stringify(res.body)}`);
          if (res.status >= 400) {
            // No data with a refusal: only the error and its message.
            assert.deepEqual(Object.keys(res.body).sort(), ["error", "message"], `${kind} ${call} by ${who}`);
            assert.equal(res.body.error, { 401: "unauthorized", 403: "forbidden" }[res.status]);
          }
        }
      }
      // The admin on a site that does not exist: 404; a read token for it: 401 (as any wrong token).
      const nowhere = `t-seg-none-${uid("")}`.slice(0, 40);
      assert.equal((await siteApi("GET", nowhere, kind, { token: ADMIN_TOKEN })).status, 404);
      assert.equal((await siteApi("POST", nowhere, kind, { body: BODY[kind], token: ADMIN_TOKEN })).status, 404);
      assert.equal((await siteApi("GET", nowhere, kind, { token: a.read })).status, 401);
    }
  });

  test("bad bodies and ids: 4xx with the fault named, never 5xx", async () => {
    const post = (kind, body, headers) => siteApi("POST", a.id, kind, { body, token: ADMIN_TOKEN, headers });
    const seg = (filters) => ({ name: "bad", filters });
    const steps = (n) => ({ name: "bad", steps: Array.from({ length: n }, (_, i) => ({ page: `/step-${i}` })) });
    let deep = ["is", "visit:os", ["Mac"]];
    for (let i = 0; i < 9; i++) deep = ["not", deep];
    let deeper = "1";
    for (let i = 0; i < 300; i++) deeper = `[${deeper}]`;
    const cases = [
      ["segments", "{not json", 400, "invalid_json", /Invalid JSON/],
      ["funnels", "{not json", 400, "invalid_json", /Invalid JSON/],
      ["segments", "[]", 400, "invalid_segment", /A segment is a JSON object/],
      ["segments", seg([["is", "visit:town", ["x"]]]), 400, "invalid_filters", /no dimension is called "visit:town"/],
      ["segments", seg([["is", "segment", [1]]]), 400, "invalid_filters", /A segment cannot contain a segment/],
      ["segments", seg([["or", [["is", "visit:os", ["Mac"]], ["is", "segment", [1, 2]]]]]), 400, "invalid_filters", /cannot contain a segment/],
      ["segments", seg([]), 400, "invalid_filters", /at least one filter/],
      ["segments", seg([deep]), 400, "invalid_filters", /nest at most 8 levels/],
      ["segments", `{"name":"bad","filters":[${deeper}]}`, 400, "invalid_json", /Invalid JSON/],
      ["segments", seg([["is", "event:props:plan", ["someone@example.com"]]]), 400, "invalid_filters", /email address/],
      ["segments", { filters: SEGMENT.filters }, 400, "invalid_segment", /Required property name/],
      ["segments", { ...SEGMENT, type: "site" }, 400, "invalid_segment", /#\/type: Unknown key/],
      ["funnels", steps(1), 400, "invalid_funnel", /2 to 8 steps, not 1/],
      ["funnels", steps(9), 400, "invalid_funnel", /2 to 8 steps, not 9/],
      ["funnels", { ...FUNNEL, within: { hours: 25 } }, 400, "invalid_funnel", /#\/within: .*from 1 to 24/],
      ["funnels", { name: "bad", steps: [{ page: "/" }, { page: "/p?x=1" }] }, 400, "invalid_funnel", /#\/steps\/1\/page: .*query string/],
      ["funnels", { name: "bad", steps: [{ page: "/" }, { event: "signup", props: { email: "x" } }] }, 400, "invalid_funnel", /#\/steps\/1\/props\/email/],
      ["funnels", { name: "bad", steps: [{ page: "/" }, {}] }, 400, "invalid_funnel", /#\/steps\/1: A step has `page`/],
      ["segments", seg([["is", "event:page", ["x".repeat(20_000)]]]), 413, "body_too_large", /16384/],
      ["funnels", { name: "x".repeat(20_000), steps: FUNNEL.steps }, 413, "body_too_large", /16384/],
    ];
    for (const [kind, body, status, code, message] of cases) {
      const res = await post(kind, body);
      const what = `${kind} ${JSON.stringify(body).slice(0, 120)}`;
      assert.deepEqual([res.status, res.body.error], [status, code], `${what}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, message, what);
    }
    for (const [kind, id] of [["segments", "abc"], ["funnels", "0"], ["segments", "9007199254740992"], ["funnels", "-1"]]) {
      for (const method of ["GET", "DELETE"]) {
        const res = await siteApi(method, a.id, `${kind}/${id}`, { token: ADMIN_TOKEN });
        assert.deepEqual([res.status, res.body.error], [400, `invalid_${kind.slice(0, -1)}`], `${method} ${kind}/${id}`);
        assert.match(res.body.message, /an id is an integer from 1 to 9007199254740991/);
      }
    }
    for (const method of ["PUT", "PATCH"]) {
      assert.equal((await siteApi(method, a.id, "segments", { token: ADMIN_TOKEN, body: SEGMENT })).status, 405);
      assert.equal((await siteApi(method, a.id, "funnels/1", { token: ADMIN_TOKEN, body: FUNNEL })).status, 405);
    }
    assert.equal((await siteApi("GET", a.id, "segments/1/more", { token: ADMIN_TOKEN })).status, 404);
    // Odd bodies of every kind: never a 5xx, always the one error shape.
    const odd = ["", "null", "0", '"x"', "{}", '{"name":null}', '{"name":"x","filters":null}', '{"name":"x","steps":{}}',
      '{"name":"x","filters":[[]]}', '{"name":"x","steps":[1,2]}', '{"name":"x","filters":[["is","segment",[9007199254740992]]]}',
      '{"name":"\\u0000","filters":[]}', "\u{feff}{}", '{"name":"x","steps":[{"page":"/"},{"page":"/"}],"within":[]}'];
    for (const kind of KINDS) {
      for (const body of odd) {
        const res = await post(kind, body);
        assert.ok(res.status >= 400 && res.status < 500, `${kind} ${body}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.deepEqual(Object.keys(res.body).sort(), ["error", "message"]);
      }
    }
  });

  test("a site keeps at most 100 funnels", async () => {
    const c = await site("t-seg-cap");
    const made = await Promise.all(Array.from({ length: 100 }, (_, i) => siteApi("POST", c.id, "funnels", {
      body: { ...FUNNEL, name: `f${i}` }, token: ADMIN_TOKEN,
    })));
    assert.deepEqual([...new Set(made.map((r) => r.status))], [201]);
    const over = await siteApi("POST", c.id, "funnels", { body: FUNNEL, token: ADMIN_TOKEN });
    assert.deepEqual([over.status, over.body.error], [409, "limit_reached"]);
    assert.match(over.body.message, /at most 100 funnels/);
    assert.equal((await siteApi("GET", c.id, "funnels", { token: c.read })).body.funnels.length, 100);
    const last = made.at(-1).body.id;
    assert.equal((await siteApi("DELETE", c.id, `funnels/${last}`, { token: ADMIN_TOKEN })).status, 200);
    assert.equal((await siteApi("POST", c.id, "funnels", { body: FUNNEL, token: ADMIN_TOKEN })).status, 201);
  });

  test("CORS: reading from any page with a token; creating and deleting from none", async () => {
    const origin = { Origin: "https://dashboard.example" };
    const read = await siteApi("GET", a.id, "segments", { token: a.read, headers: origin });
    assert.equal(read.headers.get("access-control-allow-origin"), "*");
    const made = await siteApi("POST", a.id, "segments", { body: SEGMENT, token: ADMIN_TOKEN, headers: origin });
    assert.equal(made.status, 201);
    assert.equal(made.headers.get("access-control-allow-origin"), null);
    const deleted = await siteApi("DELETE", a.id, `segments/${made.body.id}`, { token: ADMIN_TOKEN, headers: origin });
    assert.equal(deleted.headers.get("access-control-allow-origin"), null);
    const preflight = await request(`${BASE}/api/sites/${a.id}/segments`, {
      method: "OPTIONS",
      headers: { ...origin, "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "authorization" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-methods"), "GET, OPTIONS");
  });

  test("a deleted site's segments and funnels are erased with it, and a new site of that id has none", async () => {
    const gone = await site("t-seg-gone");
    const segment = await make(gone.id, "segments");
    await make(gone.id, "funnels");
    const count = () => d1(`SELECT (SELECT COUNT(*) FROM segments WHERE site_id = '${gone.id}')
      + (SELECT COUNT(*) FROM funnels WHERE site_id = '${gone.id}') AS n`)[0].n;
    assert.equal(count(), 2);
    assert.equal((await admin("DELETE", `sites/${gone.id}`)).status, 200);
    assert.equal(count(), 0);
    assert.equal((await siteApi("GET", gone.id, "segments", { token: gone.read })).status, 401);
    assert.equal((await siteApi("GET", gone.id, `segments/${segment.id}`, { token: ADMIN_TOKEN })).status, 404);
    await createSite(gone.id, ["localhost"], { read_token: gone.read });
    for (const kind of KINDS) {
      assert.deepEqual((await siteApi("GET", gone.id, kind, { token: gone.read })).body, { [kind]: [] });
    }
  });

  test("npm run site: save, list and delete segments and funnels, and ask a query", () => {
    const site = (...args) =>
      JSON.parse(execFileSync("node", ["scripts/site.mjs", ...args], { cwd: ROOT, env: { ...process.env, SIGHTLINE_URL: BASE, ADMIN_TOKEN }, encoding: "utf8" }));
    const made = site("segment", a.id, "--name", "From Google", "--filters", JSON.stringify([["is", "visit:source", ["Google"]]]));
    assert.equal(made.name, "From Google");
    assert.ok(site("segments", a.id).segments.some((s) => s.id === made.id));
    const funnel = site("funnel", a.id, "--name", "Buy", "--steps", JSON.stringify([{ page: "/" }, { event: "purchase" }]), "--hours", "2");
    assert.deepEqual(funnel.within, { hours: 2 });
    assert.ok(site("funnels", a.id).funnels.some((f) => f.id === funnel.id));
    const answer = site("query", a.id, JSON.stringify({ metrics: ["visitors"], date_range: "7d", filters: [["is", "segment", [made.id]]] }));
    assert.deepEqual(answer.results, [{ metrics: [0], dimensions: [] }]);
    assert.deepEqual(site("unsave", a.id, "segments", String(made.id)), { deleted: made.id });
  });
});
