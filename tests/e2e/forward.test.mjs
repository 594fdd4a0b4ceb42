// Forwarding to GA4 (Measurement Protocol) and Umami (/api/batch). Neither can run here: a local
// recording sink (tests/sink/server.mjs, started by `npm test`) stands in for both and checks every
// payload against each protocol's rules and Sightline's privacy. Each stored event reaches each
// target the site forwards to exactly once, mapped to GA4's recommended names; what the page sends
// itself is never forwarded; a sink that fails for a while gets everything once it recovers; a
// refused event is given up, counted, and replayed on request; an erased person's waiting events
// never leave.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { ADMIN_TOKEN, BASE, admin, beacon, collect, createSite, event, eventually, request, settled, siteApi, uid } from "./helpers.mjs";

const SINK = process.env.SIGHTLINE_SINK ?? "http://127.0.0.1:8801";
const UMAMI_ALL = "6a3f1c2e-0b1d-4c5e-8f90-1a2b3c4d5e6f";
const UMAMI_FAIL = "7b4e2d3f-1c2e-4d6f-9a01-2b3c4d5e6f70";

async function sink(path = "recorded", body) {
  const res = await fetch(`${SINK}/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  return res.json();
}

/** GA4 requests the sink received for a measurement id (answered 2xx unless `all`). */
const ga4For = async (id, all = false) =>
  (await sink()).filter((r) => r.target === "ga4" && r.query.measurement_id === id && (all || r.answered < 300));
/** The GA4 events of those requests, each with its request's client id and answer. */
const ga4Events = async (id) =>
  (await ga4For(id)).flatMap((r) => r.body.events.map((e) => ({ ...e, client_id: r.body.client_id, user_id: r.body.user_id })));
/** Umami payloads the sink took for a website id. */
const umamiFor = async (website) =>
  (await sink()).filter((r) => r.target === "umami" && r.answered < 300).flatMap((r) => r.body.map((i) => i.payload)).filter((p) => p.website === website);

async function metric(name, site, target) {
  const res = await request(`${BASE}/metrics`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  const line = (await res.text()).split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(`site="${site}"`) && l.includes(`target="${target}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

/** Events the consumer stored for `site` (`sightline_events_stored_total`). */
async function stored(site) {
  const res = await request(`${BASE}/metrics`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  const line = (await res.text()).split("\n").find((l) => l.startsWith("sightline_events_stored_total{") && l.includes(`site="${site}"`));
  return line ? Number(line.split(" ").pop()) : 0;
}

/** True once the consumer read a report of `site` it had stored before (`duplicate_stored`). */
async function droppedStored(site) {
  const res = await request(`${BASE}/metrics`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  return (await res.text()).split("\n").some((l) => l.startsWith("sightline_events_dropped_total{") && l.includes(`site="${site}"`) && l.includes('reason="duplicate_stored"'));
}

const sortedNames = (events) => events.map((e) => e.name).sort();

describe("forwarding to GA4 and Umami", () => {
  before(async () => {
    const sites = [
      ["fwd-all", { ga4_measurement_id: "G-FWDALL", umami_website_id: UMAMI_ALL, forwarding: { ga4: { mode: "all" }, umami: { mode: "all", page_events: ["pageview"] } } }],
      ["fwd-server", { ga4_measurement_id: "G-FWDSERVER", forwarding: { ga4: { mode: "server" } } }],
      ["fwd-own", { ga4_measurement_id: "G-FWDOWN", forwarding: { ga4: { mode: "all" } } }],
      ["fwd-fail", { ga4_measurement_id: "G-FWDFAIL", umami_website_id: UMAMI_FAIL, forwarding: { ga4: { mode: "all" }, umami: { mode: "all" } } }],
      ["fwd-off", { ga4_measurement_id: "G-FWDOFF" }],
    ];
    for (const [id, settings] of sites) await createSite(id, ["localhost", "127.0.0.1"], settings);
  });

  test("the forwarding setting is validated, shown and audited by name", async () => {
    const site = await admin("GET", "sites/fwd-all");
    assert.deepEqual(site.body.forwarding, { ga4: { mode: "all", page_events: [] }, umami: { mode: "all", page_events: ["pageview"] } });
    const off = await admin("GET", "sites/fwd-off");
    assert.deepEqual(off.body.forwarding, { ga4: { mode: "off", page_events: [] }, umami: { mode: "off", page_events: [] } }, "off until set");
    for (const bad of [{ ga4: { mode: "sometimes" } }, { ga5: { mode: "all" } }, { ga4: { mode: "all", api_secret: "x" } }, "all"]) {
      const answer = await admin("PATCH", "sites/fwd-off", { forwarding: bad });
      assert.equal(answer.status, 400, JSON.stringify(bad));
      assert.equal(answer.body.error, "invalid_field");
      assert.match(answer.body.message, /forwarding/);
    }
  });

  test("every stored event reaches GA4 and Umami once, mapped, with nothing personal", async () => {
    const order = uid("o");
    const body = beacon("fwd-all", [
      event({ name: "pageview", url: "http://localhost/products/mug?utm_source=news" }),
      event({ name: "add_to_cart", url: "http://localhost/products/mug", props: { sku: "MUG-1", first_name: "Jo", firstName: "Jo", ipAddress: "x", userAgent: "y", billing_address: "z", "Customer Name": "Jo", note: "mail jo@example.com" } }),
      event({ name: "checkout_completed", url: "http://localhost/thank-you", props: { order_id: order, value: 40, currency: "EUR", item_name: "Trail mug", quantity: 1 } }),
      event({ name: "signup_completed", props: { method: "google" } }),
      event({ name: "search", props: { term: "trail mug" } }),
      event({ name: "newsletterSignup" }),
      event({ name: "admin:refund_issued", url: "http://localhost/admin/orders", props: { is_internal: true } }),
    ], { user_id: "customer-42" });
    assert.equal((await collect(body)).status, 202);
    await eventually(async () => (await ga4Events("G-FWDALL")).length >= 7 && (await umamiFor(UMAMI_ALL)).length >= 6, 30000, "the forwards");
    // Then the payment webhook reports the same order: a duplicate, stored and forwarded never.
    const hook = await siteApi("POST", "fwd-all", "events", {
      token: "write-fwd-all",
      body: beacon("fwd-all", [event({ name: "checkout_completed", url: "http://localhost/thank-you", props: { order_id: order, value: 40, currency: "EUR" } })], { visitor_id: undefined, session_id: undefined }),
    });
    assert.equal(hook.status, 202, JSON.stringify(hook.body));
    await eventually(() => droppedStored("fwd-all"), 30000, "the webhook's report read as a duplicate");
    // Nothing more comes (a second delivery would arrive within the queue's batch time).
    const ga4 = await settled(() => ga4Events("G-FWDALL"));
    const umami = await settled(() => umamiFor(UMAMI_ALL));
    assert.deepEqual(sortedNames(ga4), ["add_to_cart", "admin_refund_issued", "newsletter_signup", "page_view", "purchase", "search", "sign_up"]);
    assert.deepEqual(umami.map((p) => p.name ?? "(pageview)").sort(), ["add_to_cart", "admin:refund_issued", "checkout_completed", "newsletterSignup", "search", "signup_completed"], "the page sends its own pageviews to Umami");
    for (const r of [...(await ga4For("G-FWDALL", true)), ...(await sink()).filter((r) => r.target === "umami")]) {
      assert.deepEqual(r.violations, [], JSON.stringify(r.body));
    }
    const byName = Object.fromEntries(ga4.map((e) => [e.name, e]));
    assert.equal(new Set(ga4.map((e) => e.client_id)).size, 1, "one visitor, one client id");
    assert.match(ga4[0].client_id, /^[0-9a-f]{32}$/, "the visitor key, never the SDK's visitor id");
    assert.ok(ga4.every((e) => e.user_id === "customer-42"), "the signed-in visitor's own id as GA4's user_id");
    assert.ok(!JSON.stringify(umami).includes("customer-42"), "Umami has no user id");
    const exported = await request(`${BASE}/api/sites/fwd-all/export?data=events&format=ndjson`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(exported.status, 200);
    const stored = await exported.text();
    assert.ok(stored.includes("add_to_cart") && !stored.includes("customer-42"), "the user id is never stored");
    assert.deepEqual(
      [byName.purchase.params.transaction_id, byName.purchase.params.value, byName.purchase.params.currency, byName.purchase.params.items],
      [order, 40, "EUR", [{ item_name: "Trail mug", quantity: 1 }]],
    );
    assert.equal(byName.sign_up.params.method, "google");
    assert.equal(byName.search.params.search_term, "trail mug");
    assert.equal(byName.admin_refund_issued.params.traffic_type, "internal", "staff traffic as GA4's internal traffic");
    assert.equal(byName.page_view.params.page_location, "http://localhost/products/mug".replace("http:", "https:"));
    assert.equal(byName.add_to_cart.params.sku, "MUG-1");
    assert.equal(byName.add_to_cart.params.first_name, undefined, "a person's name never leaves");
    assert.ok(ga4.every((e) => Number.isInteger(e.timestamp_micros) && e.params.session_id > 0));
    const cart = umami.find((p) => p.name === "add_to_cart");
    assert.deepEqual(cart.data, { sku: "MUG-1" });
    assert.equal(cart.hostname, "localhost");
    assert.equal(cart.url, "/products/mug");
    assert.ok((await ga4For("G-FWDALL")).every((r) => r.query.api_secret === "sink-global-key"));
    assert.ok((await sink()).filter((r) => r.target === "umami").every((r) => /^Mozilla\/5\.0 \(/.test(r.ua) && !r.ua.includes("HeadlessChrome")));
    assert.equal(await metric("sightline_forwarded_events_total", "fwd-all", "ga4"), 7);
    assert.equal(await metric("sightline_forwarded_events_total", "fwd-all", "umami"), 6);
  });

  test("with the page's tag sending browser events, only a server's events are forwarded", async () => {
    const seen = uid("o");
    const missed = uid("o");
    const checkout = (order) => event({ name: "checkout_completed", url: "http://localhost/thank-you", props: { order_id: order, value: 12.5, currency: "USD" } });
    assert.equal((await collect(beacon("fwd-server", [event(), checkout(seen)]))).status, 202);
    // The buyer's beacon is stored first (a webhook first would be the order's first report).
    await eventually(async () => (await stored("fwd-server")) === 2, 30000, "the beacon stored");
    for (const order of [seen, missed]) {
      const hook = await siteApi("POST", "fwd-server", "events", { token: "write-fwd-server", body: beacon("fwd-server", [checkout(order)], { visitor_id: undefined, session_id: undefined }) });
      assert.equal(hook.status, 202);
    }
    await eventually(async () => (await ga4Events("G-FWDSERVER")).length >= 1, 30000, "the webhook's purchase");
    const events = await settled(() => ga4Events("G-FWDSERVER"));
    assert.deepEqual(events.map((e) => [e.name, e.params.transaction_id]), [["purchase", missed]], "the tag sent the pageview and the seen order; the webhook's duplicate is not stored");
    // A site with an id but no forwarding sends nothing.
    assert.equal((await collect(beacon("fwd-off", [event()]))).status, 202);
    await settled(async () => (await sink()).length);
    assert.equal((await ga4For("G-FWDOFF", true)).length, 0);
  });

  test("a site's own GA4 API secret takes precedence over GA_API_SECRET", async () => {
    assert.equal((await collect(beacon("fwd-own", [event()]))).status, 202);
    const requests = await eventually(async () => (await ga4For("G-FWDOWN")).length > 0 && ga4For("G-FWDOWN"), 30000, "the forward");
    assert.equal(requests[0].query.api_secret, "sink-own-key");
  });

  test("a failing target gets everything once it recovers; a refused event waits for a replay", async () => {
    await sink("control", { fail: 3, status: 503 });
    const events = Array.from({ length: 30 }, (_, n) => event({ name: "add_to_cart", props: { n } }));
    assert.equal((await collect(beacon("fwd-fail", events))).status, 202);
    await eventually(async () => (await ga4Events("G-FWDFAIL")).length >= 30 && (await umamiFor(UMAMI_FAIL)).length >= 30, 60000, "every event after the failures");
    const ga4 = await settled(() => ga4Events("G-FWDFAIL"));
    const umami = await settled(() => umamiFor(UMAMI_FAIL));
    assert.deepEqual(ga4.map((e) => e.params.n).sort((a, b) => a - b), events.map((_, n) => n), "each once");
    assert.deepEqual(umami.map((p) => p.data.n).sort((a, b) => a - b), events.map((_, n) => n), "each once");
    const failed = (await ga4For("G-FWDFAIL", true)).filter((r) => r.answered === 503).length
      + (await sink()).filter((r) => r.target === "umami" && r.answered === 503 && r.body[0]?.payload.website === UMAMI_FAIL).length;
    assert.equal(failed, 3, "the sink failed three deliveries");
    const failures = (await metric("sightline_forward_failures_total", "fwd-fail", "ga4")) + (await metric("sightline_forward_failures_total", "fwd-fail", "umami"));
    assert.ok(failures >= 3, `failures counted: ${failures}`);
    assert.equal(await metric("sightline_forward_waiting_events", "fwd-fail", "ga4"), 0);

    // A refusal (400) is not retried: the event is given up, counted, and sent again on replay.
    await sink("control", { fail: 1, status: 400 });
    const late = event({ name: "add_to_cart", props: { n: 99 } });
    assert.equal((await collect(beacon("fwd-fail", [late], { visitor_id: "refused-visitor" }))).status, 202);
    await eventually(async () => (await metric("sightline_forward_dead_letters_total", "fwd-fail", "ga4")) + (await metric("sightline_forward_dead_letters_total", "fwd-fail", "umami")) === 1, 30000, "one event given up");
    const replay = await admin("POST", "forward/replay?site=fwd-fail");
    assert.equal(replay.status, 200);
    assert.equal(replay.body.replayed_events, 1);
    await eventually(async () => (await ga4Events("G-FWDFAIL")).some((e) => e.params.n === 99) && (await umamiFor(UMAMI_FAIL)).some((p) => p.data.n === 99), 30000, "the replayed event");
    const audit = await admin("GET", "audit?limit=5");
    assert.ok(audit.body.entries.some((e) => e.action === "forwards.replayed" && e.target === "fwd-fail"), JSON.stringify(audit.body));
  });

  test("an Umami without /api/batch gets each event at /api/send", async () => {
    await sink("control", { umami_batch: false });
    try {
      const events = Array.from({ length: 3 }, (_, n) => event({ name: "add_to_cart", props: { n: 200 + n } }));
      assert.equal((await collect(beacon("fwd-fail", events))).status, 202);
      await eventually(async () => (await umamiFor(UMAMI_FAIL)).filter((p) => p.data?.n >= 200 && p.data?.n < 300).length >= 3, 30000, "the events one by one");
      const sent = (await sink()).filter((r) => r.target === "umami" && r.via === "send");
      assert.deepEqual(sent.map((r) => r.body[0].payload.data.n).sort(), [200, 201, 202]);
      assert.ok(sent.every((r) => r.violations.length === 0 && r.answered === 200));
    } finally {
      await sink("control", { umami_batch: true });
    }
  });

  test("an erased person's waiting events never leave", async () => {
    await sink("control", { fail: 1000, status: 503 });
    const visitor = uid("v");
    assert.equal((await collect(beacon("fwd-fail", [event({ name: "erase_me", props: { n: 500 } })], { visitor_id: visitor }))).status, 202);
    await eventually(async () => (await metric("sightline_forward_waiting_events", "fwd-fail", "ga4")) === 1, 30000, "the event waiting");
    const erased = await siteApi("DELETE", "fwd-fail", `visitors/${visitor}`, { token: ADMIN_TOKEN });
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.equal(await metric("sightline_forward_waiting_events", "fwd-fail", "ga4"), 0);
    await sink("control", { fail: 0 });
    // Another visitor's event after it arrives; the erased one never does.
    assert.equal((await collect(beacon("fwd-fail", [event({ name: "after_erasure", props: { n: 501 } })]))).status, 202);
    await eventually(async () => (await ga4Events("G-FWDFAIL")).some((e) => e.params.n === 501), 60000, "the later event");
    await settled(async () => (await ga4Events("G-FWDFAIL")).length);
    assert.ok(!(await ga4Events("G-FWDFAIL")).some((e) => e.params.n === 500));
    assert.ok(!(await umamiFor(UMAMI_FAIL)).some((p) => p.data?.n === 500));
  });
  test("erasing a signed-in user deletes their waiting forwards", async () => {
    await sink("control", { fail: 1000, status: 503 });
    const user = uid("user");
    assert.equal((await collect(beacon("fwd-fail", [event({ name: "erase_user", props: { n: 600 } })], { user_id: user }))).status, 202);
    await eventually(async () => (await metric("sightline_forward_waiting_events", "fwd-fail", "ga4")) === 1, 30000, "the event waiting");
    const erased = await siteApi("POST", "fwd-fail", "erasures", { token: ADMIN_TOKEN, body: { user_id: user } });
    assert.equal(erased.status, 200, JSON.stringify(erased.body));
    assert.equal(await metric("sightline_forward_waiting_events", "fwd-fail", "ga4"), 0);
    assert.equal(await metric("sightline_forward_waiting_events", "fwd-fail", "umami"), 0);
    await sink("control", { fail: 0 });
    assert.equal((await collect(beacon("fwd-fail", [event({ name: "after_user_erasure", props: { n: 601 } })]))).status, 202);
    await eventually(async () => (await ga4Events("G-FWDFAIL")).some((e) => e.params.n === 601), 60000, "the later event");
    await settled(async () => (await ga4Events("G-FWDFAIL")).length);
    assert.ok(!(await ga4Events("G-FWDFAIL")).some((e) => e.params.n === 600 || e.user_id === user));
  });
});
