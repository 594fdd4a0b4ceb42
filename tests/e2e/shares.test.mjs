// Share links against the real worker: the admin makes one (its secret and link shown once, only its
// hash stored), the read token lists them without secrets; a share's secret queries its site as the
// read token does, a share locked to a segment answers only what the segment matches (the holder's
// filters narrow it, never widen it) and is refused by the v1 reports; a secret opens nothing else
// (shares, changes, exports, erasures, the admin API, another site: 401 as any wrong token);
// revoking takes effect on the next request; bad bodies and ids answered 4xx with the fault named;
// at most 100 a site; CORS; erased with their site. Also the admin's site list.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, test } from "node:test";
import { generate, localTime } from "../traffic/generate.mjs";
import { ADMIN_TOKEN, BASE, admin, beacon, createSite, d1, event, replay, request, settled, siteApi, stats, storedEvents, uid, v2query } from "./helpers.mjs";

const run = uid("").slice(-6);
const SITE = { id: `t-share-${run}`, timezone: "UTC", host: `t-share-${run}.example` };
const READ = `read-${uid("")}`;
const OTHER = { id: `t-share-o-${run}`, read: `read-${uid("")}` };
const GOOGLE = { name: "From Google", filters: [["is", "visit:source", ["Google"]]] };

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

/** The admin makes a share of `site`; asserts 201 and answers it, its secret and link included. */
async function share(site, body) {
  const made = await siteApi("POST", site, "shares", { body, token: ADMIN_TOKEN });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made.body;
}

describe("share links", () => {
  let range;
  let segment;
  let otherSegment;
  const query = (over = {}) => ({ site_id: SITE.id, metrics: ["visitors", "visits", "pageviews"], date_range: range, ...over });

  before(async () => {
    await createSite(SITE.id, [SITE.host], { read_token: READ });
    await createSite(OTHER.id, ["localhost"], { read_token: OTHER.read });
    const g = generate({ sites: [SITE], now: Date.now(), days: 2, visitorsPerDay: 20, seed: 7117 });
    await replay(g.requests);
    await storedEvents(SITE.id, g.counts.stored, 120_000);
    const dates = g.log.map((x) => localTime(x.event.ts, SITE.timezone).date).sort();
    range = [dates[0], dates.at(-1)];
    // Every visit is stored when its sessions row settles.
    await settled(() => v2query(query(), READ).then((r) => r.body.results));
    segment = (await siteApi("POST", SITE.id, "segments", { body: GOOGLE, token: ADMIN_TOKEN })).body;
    otherSegment = (await siteApi("POST", OTHER.id, "segments", { body: GOOGLE, token: ADMIN_TOKEN })).body;
    assert.equal(typeof segment.id, "number");
  });

  test("create (admin only): 201 with the secret and link, once; the list shows neither, nor the hash", async () => {
    const made = await share(SITE.id, { name: "Board" });
    assert.deepEqual(Object.keys(made).sort(), ["created_at", "id", "link", "name", "secret", "segment"]);
    assert.match(made.secret, /^share_[0-9a-f]{64}$/);
    assert.equal(made.link, `/dashboard/#site=${SITE.id}&share=${made.secret}`);
    assert.deepEqual([made.name, made.segment], ["Board", null]);
    assert.ok(made.created_at > Date.now() - 60_000);
    const again = await share(SITE.id, { name: "Board", segment: null });
    assert.ok(again.id > made.id);
    assert.notEqual(again.secret, made.secret);

    const refusals = { [READ]: 403, [OTHER.read]: 401, "not-a-token-of-anyone": 401, "": 401, [made.secret]: 403 };
    for (const [token, status] of Object.entries(refusals)) {
      const res = await siteApi("POST", SITE.id, "shares", { body: { name: "x" }, token });
      assert.equal(res.status, status, `POST by ${token || "none"}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(Object.keys(res.body).sort(), ["error", "message"]);
      assert.equal(res.body.error, { 401: "unauthorized", 403: "forbidden" }[status]);
    }

    const listed = [made, again].map(({ secret, link, ...rest }) => rest);
    for (const token of [READ, ADMIN_TOKEN]) {
      const list = await siteApi("GET", SITE.id, "shares", { token });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.shares.slice(0, 2), listed, "oldest first");
      const text = JSON.stringify(list.body);
      assert.ok(!text.includes("share_") && !text.includes(sha256(made.secret)), text);
    }
    // A share's own secret does not list the site's shares; another site's token does not either.
    assert.equal((await siteApi("GET", SITE.id, "shares", { token: made.secret })).status, 403);
    assert.equal((await siteApi("GET", SITE.id, "shares", { token: OTHER.read })).status, 401);
    // Only the hash is stored.
    const [row] = d1(`SELECT token_hash, segment_id FROM shares WHERE id = ${made.id}`);
    assert.deepEqual(row, { token_hash: sha256(made.secret), segment_id: null });
  });

  test("a share's secret queries its site as the read token does", async () => {
    const made = await share(SITE.id, { name: "Everything" });
    const queries = [
      query(),
      query({ dimensions: ["visit:source"] }),
      query({ metrics: ["visitors", "bounce_rate"], filters: [["is_not", "visit:device", ["Desktop"]]], dimensions: ["event:page"] }),
      query({ filters: [["is", "segment", [segment.id]]] }),
    ];
    for (const q of queries) {
      const [byRead, byShare] = [await v2query(q, READ), await v2query(q, made.secret)];
      assert.equal(byRead.status, 200, JSON.stringify(byRead.body));
      assert.deepEqual(byShare, { ...byRead, headers: byShare.headers }, JSON.stringify(q));
    }
    assert.ok((await v2query(query(), made.secret)).body.results[0].metrics[0] > 0, "the site has traffic");
    // The v1 reports and the saved segments and funnels read too.
    const v1 = `period=custom&from=${range[0]}&to=${range[1]}`;
    const [overview, shared] = [await stats(SITE.id, "sources", v1, READ), await stats(SITE.id, "sources", v1, made.secret)];
    assert.deepEqual([shared.status, shared.body], [200, overview.body]);
    for (const path of ["segments", `segments/${segment.id}`, "funnels"]) {
      const res = await siteApi("GET", SITE.id, path, { token: made.secret });
      assert.equal(res.status, 200, path);
      assert.deepEqual(res.body, (await siteApi("GET", SITE.id, path, { token: READ })).body);
    }
  });

  test("a share locked to a segment answers what the read token answers with the segment, and cannot widen it", async () => {
    const locked = await share(SITE.id, { name: "Agency", segment: segment.id });
    assert.equal(locked.segment, segment.id);
    const withSegment = (q) => ({ ...q, filters: [...(q.filters ?? []), ["is", "segment", [segment.id]]] });
    const asks = [
      query({ dimensions: ["visit:source"] }),
      query(),
      // The holder's own filters are joined by `and`: an `or` of anything, a `not`, another segment
      // of its site, staff traffic — each only narrows what the segment matches.
      query({ filters: [["or", [["is", "visit:source", ["Google"]], ["is_not", "visit:source", ["Google"]]]]], dimensions: ["visit:source"] }),
      query({ filters: [["not", ["is", "visit:source", ["Google"]]]] }),
      query({ filters: [["is", "visit:source", ["Facebook"]]] }),
      query({ include: { internal: true }, dimensions: ["visit:source"] }),
    ];
    for (const q of asks) {
      const [byRead, byShare] = [await v2query(withSegment(q), READ), await v2query(q, locked.secret)];
      assert.equal(byRead.status, 200, JSON.stringify(byRead.body));
      assert.deepEqual(byShare, { ...byRead, headers: byShare.headers }, JSON.stringify(q));
      if (q.dimensions?.includes("visit:source")) {
        assert.deepEqual([...new Set(byShare.body.results.map((r) => r.dimensions[0]))], ["Google"], JSON.stringify(byShare.body));
      }
    }
    const whole = (await v2query(query(), READ)).body.results[0].metrics[0];
    const seen = (await v2query(query(), locked.secret)).body.results[0].metrics[0];
    assert.ok(seen > 0 && seen < whole, `the segment's ${seen} visitors of the site's ${whole}`);
    assert.deepEqual((await v2query(query({ filters: [["not", ["is", "visit:source", ["Google"]]]] }), locked.secret)).body.results, [{ metrics: [0, 0, 0], dimensions: [] }]);

    // The v1 reports cannot apply a segment: refused, saying where to read.
    for (const report of ["overview", "sources", "realtime"]) {
      const res = await stats(SITE.id, report, undefined, locked.secret);
      assert.deepEqual([res.status, res.body.error], [403, "forbidden"], report);
      assert.match(res.body.message, /segment-locked share reads only POST \/api\/v2\/query/);
    }
    // Its segments and funnels read, as any share's.
    assert.equal((await siteApi("GET", SITE.id, "segments", { token: locked.secret })).status, 200);
  });

  test("a share's secret opens nothing else, and on another site is any wrong token", async () => {
    const made = await share(SITE.id, { name: "Nothing else" });
    const other = await share(OTHER.id, { name: "Other site's" });
    const post = (path, body) => siteApi("POST", SITE.id, path, { body, token: made.secret });
    const refused = [
      [await post("shares", { name: "more" }), 403],
      [await siteApi("DELETE", SITE.id, `shares/${made.id}`, { token: made.secret }), 403],
      [await post("segments", GOOGLE), 403],
      [await siteApi("DELETE", SITE.id, `segments/${segment.id}`, { token: made.secret }), 403],
      [await post("funnels", { name: "f", steps: [{ page: "/" }, { page: "/cart" }] }), 403],
      [await siteApi("GET", SITE.id, "export", { token: made.secret }), 401],
      [await post("erasures", { visitor_id: "someone" }), 401],
      [await siteApi("DELETE", SITE.id, "visitors/someone", { token: made.secret }), 401],
      [await post("events", beacon(SITE.id, [event({ url: `https://${SITE.host}/` })])), 401],
    ];
    for (const [res, status] of refused) {
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body).sort(), ["error", "message"]);
    }
    assert.equal((await admin("GET", "sites", undefined, made.secret)).status, 401);
    assert.equal((await admin("GET", `sites/${SITE.id}`, undefined, made.secret)).status, 401);
    // Site A's share on site B answers as a wrong token does, word for word.
    const wrong = "share_" + "0".repeat(64);
    const pairs = [
      [(t) => v2query({ ...query(), site_id: OTHER.id }, t), 401],
      [(t) => stats(OTHER.id, "overview", undefined, t), 401],
      [(t) => siteApi("GET", OTHER.id, "segments", { token: t }), 401],
      [(t) => siteApi("GET", OTHER.id, `segments/${otherSegment.id}`, { token: t }), 401],
      [(t) => siteApi("GET", OTHER.id, "shares", { token: t }), 401],
      [(t) => v2query(query(), t), 401],
    ];
    for (const [call, status] of pairs.slice(0, -1)) {
      const [byShare, byWrong] = [await call(made.secret), await call(wrong)];
      assert.deepEqual([byShare.status, byShare.body], [status, byWrong.body]);
    }
    const [mine, theirs] = [await pairs.at(-1)[0](other.secret), await pairs.at(-1)[0](wrong)];
    assert.deepEqual([mine.status, mine.body], [401, theirs.body]);
  });

  test("revoking: DELETE answers the id, and the next request with the secret is 401", async () => {
    const made = await share(SITE.id, { name: "Temporary" });
    assert.equal((await v2query(query(), made.secret)).status, 200);
    assert.equal((await stats(SITE.id, "overview", undefined, made.secret)).status, 200);
    assert.equal((await siteApi("DELETE", SITE.id, `shares/${made.id}`, { token: READ })).status, 403);
    const gone = await siteApi("DELETE", SITE.id, `shares/${made.id}`, { token: ADMIN_TOKEN });
    assert.deepEqual([gone.status, gone.body], [200, { deleted: made.id }]);
    const after = await v2query(query(), made.secret);
    assert.deepEqual([after.status, after.body.error], [401, "unauthorized"]);
    assert.equal((await stats(SITE.id, "overview", undefined, made.secret)).status, 401);
    assert.equal((await siteApi("GET", SITE.id, "segments", { token: made.secret })).status, 401);
    const twice = await siteApi("DELETE", SITE.id, `shares/${made.id}`, { token: ADMIN_TOKEN });
    assert.deepEqual([twice.status, twice.body.error], [404, "not_found"]);
    const listed = (await siteApi("GET", SITE.id, "shares", { token: READ })).body.shares;
    assert.ok(!listed.some((s) => s.id === made.id));
    // Another site's share is not found through this site.
    const other = await share(OTHER.id, { name: "Stays" });
    assert.equal((await siteApi("DELETE", SITE.id, `shares/${other.id}`, { token: ADMIN_TOKEN })).status, 404);
    assert.equal((await v2query({ ...query(), site_id: OTHER.id }, other.secret)).status, 200);
  });

  test("bad bodies and ids: 4xx with the fault named, never 5xx", async () => {
    const cases = [
      ["{not json", 400, "invalid_json", /Invalid JSON/],
      ["[]", 400, "invalid_share", /A share is a JSON object/],
      [{}, 400, "invalid_share", /Required property name/],
      [{ segment: segment.id }, 400, "invalid_share", /Required property name/],
      [{ name: " padded" }, 400, "invalid_share", /#\/name: Invalid name/],
      [{ name: "someone@example.com" }, 400, "invalid_share", /email address/],
      [{ name: "x", expires: 1 }, 400, "invalid_share", /#\/expires: Unknown key/],
      [{ name: "x", segment: 987654321 }, 400, "invalid_segment", /no segment 987654321/],
      [{ name: "x", segment: otherSegment.id }, 400, "invalid_segment", new RegExp(`no segment ${otherSegment.id}\\b`)],
      [{ name: "x", segment: String(segment.id) }, 400, "invalid_segment", /#\/segment: Invalid segment id/],
      [{ name: "x", segment: 1.5 }, 400, "invalid_segment", /an id is an integer/],
      [{ name: "x".repeat(20_000) }, 413, "body_too_large", /16384/],
    ];
    for (const [body, status, code, message] of cases) {
      const res = await siteApi("POST", SITE.id, "shares", { body, token: ADMIN_TOKEN });
      const what = JSON.stringify(body).slice(0, 80);
      assert.deepEqual([res.status, res.body.error], [status, code], `${what}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, message, what);
    }
    for (const id of ["abc", "0", "-1", "1.5", "9007199254740992"]) {
      const res = await siteApi("DELETE", SITE.id, `shares/${id}`, { token: ADMIN_TOKEN });
      assert.deepEqual([res.status, res.body.error], [400, "invalid_share"], id);
      assert.match(res.body.message, /Invalid share id .*an id is an integer from 1 to 9007199254740991/);
    }
    for (const method of ["PUT", "PATCH"]) {
      assert.equal((await siteApi(method, SITE.id, "shares", { token: ADMIN_TOKEN, body: { name: "x" } })).status, 405);
    }
    assert.equal((await siteApi("GET", SITE.id, "shares/1", { token: ADMIN_TOKEN })).status, 405);
    assert.equal((await siteApi("GET", SITE.id, "shares/1/more", { token: ADMIN_TOKEN })).status, 404);
    // The admin on a site that does not exist: 404; a token of another site: 401.
    const nowhere = `t-share-none-${run}`;
    assert.equal((await siteApi("POST", nowhere, "shares", { body: { name: "x" }, token: ADMIN_TOKEN })).status, 404);
    assert.equal((await siteApi("GET", nowhere, "shares", { token: READ })).status, 401);
    for (const body of ["", "null", "0", '"x"', '{"name":null}', '{"name":"x","segment":{}}', '{"name":"\\u0000"}', "\u{feff}{}"]) {
      const res = await siteApi("POST", SITE.id, "shares", { body, token: ADMIN_TOKEN });
      assert.ok(res.status >= 400 && res.status < 500, `${body}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.deepEqual(Object.keys(res.body).sort(), ["error", "message"]);
    }
  });

  test("a site keeps at most 100 shares", async () => {
    const id = `t-share-cap-${run}`;
    await createSite(id, ["localhost"], { read_token: `read-${uid("")}` });
    const made = await Promise.all(Array.from({ length: 100 }, (_, i) => siteApi("POST", id, "shares", { body: { name: `s${i}` }, token: ADMIN_TOKEN })));
    assert.deepEqual([...new Set(made.map((r) => r.status))], [201]);
    assert.equal(new Set(made.map((r) => r.body.secret)).size, 100, "every secret is new");
    const over = await siteApi("POST", id, "shares", { body: { name: "one more" }, token: ADMIN_TOKEN });
    assert.deepEqual([over.status, over.body.error], [409, "limit_reached"]);
    assert.match(over.body.message, /at most 100 shares/);
    assert.equal((await siteApi("DELETE", id, `shares/${made[0].body.id}`, { token: ADMIN_TOKEN })).status, 200);
    assert.equal((await siteApi("POST", id, "shares", { body: { name: "one more" }, token: ADMIN_TOKEN })).status, 201);
  });

  test("CORS: listing from any page with a token; creating and deleting from none", async () => {
    const origin = { Origin: "https://dashboard.example" };
    const list = await siteApi("GET", SITE.id, "shares", { token: READ, headers: origin });
    assert.equal(list.headers.get("access-control-allow-origin"), "*");
    const made = await siteApi("POST", SITE.id, "shares", { body: { name: "cors" }, token: ADMIN_TOKEN, headers: origin });
    assert.equal(made.status, 201);
    assert.equal(made.headers.get("access-control-allow-origin"), null);
    const deleted = await siteApi("DELETE", SITE.id, `shares/${made.body.id}`, { token: ADMIN_TOKEN, headers: origin });
    assert.equal(deleted.headers.get("access-control-allow-origin"), null);
    const preflight = await request(`${BASE}/api/sites/${SITE.id}/shares`, {
      method: "OPTIONS",
      headers: { ...origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-methods"), "GET, OPTIONS");
  });

  test("a deleted site's shares are erased with it, and its secrets open nothing on a new site of that id", async () => {
    const id = `t-share-gone-${run}`;
    const read = `read-${uid("")}`;
    await createSite(id, ["localhost"], { read_token: read });
    const made = await share(id, { name: "Goes" });
    const count = () => d1(`SELECT COUNT(*) AS n FROM shares WHERE site_id = '${id}'`)[0].n;
    assert.equal(count(), 1);
    assert.equal((await admin("DELETE", `sites/${id}`)).status, 200);
    assert.equal(count(), 0);
    await createSite(id, ["localhost"], { read_token: read });
    assert.equal((await v2query({ site_id: id, metrics: ["visitors"], date_range: "7d" }, made.secret)).status, 401);
    assert.deepEqual((await siteApi("GET", id, "shares", { token: read })).body, { shares: [] });
  });

  test("GET /api/admin/sites: every site by id, its settings as GET /api/admin/sites/{id} answers them, no token", async () => {
    const list = await admin("GET", "sites");
    assert.equal(list.status, 200);
    const ids = list.body.sites.map((s) => s.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), "ordered by id");
    for (const id of [SITE.id, OTHER.id]) {
      const one = await admin("GET", `sites/${id}`);
      assert.deepEqual(list.body.sites.find((s) => s.id === id), one.body);
    }
    assert.deepEqual(list.body.sites.find((s) => s.id === SITE.id).domains, [SITE.host]);
    const keys = new Set(list.body.sites.flatMap((s) => Object.keys(s)));
    assert.ok(![...keys].some((k) => /token|hash/.test(k)), `no token or hash: ${[...keys]}`);
    assert.equal((await admin("GET", "sites", undefined, READ)).status, 401);
    const page = await request(`${BASE}/api/admin/sites`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, Origin: "https://dashboard.example" } });
    assert.equal(page.headers.get("access-control-allow-origin"), null);
  });
});
