// Server-side events: `POST /api/sites/{site}/events` with the site's write token. A payment
// webhook re-asserting a conversion counts it exactly once, whichever side delivered it first (the
// webhook or the buyer's beacon) or both; the server's user agent and address describe no visitor.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { BASE, DESKTOP_UA, ORIGIN, TOKEN, beacon, collect, createSite, d1, event, eventually, request, uid, v2query } from "./helpers.mjs";

const SITE = "server-events";
const WRITE = `write-${SITE}`;
const WEBHOOK_UA = "Stripe/1.0 (+https://stripe.com/docs/webhooks)";

/** POSTs a server-side beacon (the write token unless told) to the site's events endpoint. */
async function send(body, { token = WRITE, site = SITE, method = "POST", headers = {} } = {}) {
  const res = await request(`${BASE}/api/sites/${site}/events`, {
    method,
    headers: {
      "Content-Type": "application/json",
      "User-Agent": WEBHOOK_UA,
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: method === "GET" ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** A conversion of `order` as the storefront's checkout reports it. */
const checkout = (order, over = {}) =>
  event({ name: "checkout_completed", url: "http://localhost/thank-you", props: { order_id: order, value: 40, currency: "EUR" }, ...over });

/** Waits until every event id in `ids` is stored: the queue message that carried them was consumed. */
const stored = (ids) =>
  eventually(() => {
    const list = ids.map((id) => `'${id}'`).join(",");
    return d1(`SELECT COUNT(*) AS n FROM events WHERE site_id = '${SITE}' AND event_id IN (${list})`)[0].n === ids.length;
  }, 30000, `events ${ids.join(", ")} stored`);

/** The stored reports of one order. */
const reports = (order) =>
  d1(`SELECT event_id, sender, visitor_key, device, browser, os, country FROM events
      WHERE site_id = '${SITE}' AND name = 'checkout_completed' AND order_id = '${order}'`);

describe("server-side events", () => {
  before(() => createSite(SITE));

  test("need the write token and the path's site; bad bodies are named 4xx", async () => {
    const body = beacon(SITE, [checkout(uid("o"))]);
    const none = await send(body, { token: "" });
    assert.deepEqual([none.status, none.body.error], [401, "unauthorized"]);
    assert.match(none.body.message, /write token/);
    const wrong = await send(body, { token: "write-not-this-one" });
    assert.deepEqual([wrong.status, wrong.body.error], [401, "unauthorized"]);
    const readToken = await send(body, { token: TOKEN });
    assert.deepEqual([readToken.status, readToken.body.error], [401, "unauthorized"], "the read token writes nothing");
    const otherSite = await send({ ...body, site: "demo" });
    assert.deepEqual([otherSite.status, otherSite.body.error], [400, "site_mismatch"]);
    const unknown = await send({ ...body, site: "no-such-site" }, { site: "no-such-site" });
    assert.deepEqual([unknown.status, unknown.body.error], [403, "unknown_site"]);
    const broken = await send("{not json");
    assert.deepEqual([broken.status, broken.body.error], [400, "malformed_json"]);
    const huge = await send(JSON.stringify(body).padEnd(70_000, " "));
    assert.deepEqual([huge.status, huge.body.error], [413, "body_too_large"]);
    const get = await send(undefined, { method: "GET" });
    assert.deepEqual([get.status, get.body.error], [405, "method_not_allowed"]);
    const foreign = await send(beacon(SITE, [checkout(uid("o"), { url: "https://evil.example/thank-you" })]));
    assert.deepEqual([foreign.status, foreign.body.accepted, foreign.body.reasons], [202, 0, { foreign_host: 1 }]);
  });

  test("a webhook is no browser: its agent is no bot to drop, and gives no device, browser, OS or country", async () => {
    const order = uid("o");
    const e = checkout(order);
    const res = await send({ v: 1, site: SITE, events: [e] });
    assert.deepEqual([res.status, res.body.accepted, res.body.dropped], [202, 1, 0], JSON.stringify(res.body));
    await stored([e.id]);
    const [row] = reports(order);
    assert.deepEqual(
      { sender: row.sender, device: row.device, browser: row.browser, os: row.os, country: row.country },
      { sender: "server", device: null, browser: null, os: null, country: null },
    );
    // The same agent at the browser collector is a bot's.
    const asBrowser = await collect(beacon(SITE, [event()]), { headers: { "User-Agent": WEBHOOK_UA } });
    assert.deepEqual([asBrowser.status, asBrowser.body.reasons], [202, { bot: 1 }]);
  });

  test("an order counts once whichever side reported it first: beacon then webhook, webhook then beacon, a retried webhook", async () => {
    const visitor = { visitor_id: uid("v"), session_id: uid("s") };
    // 1. The buyer's beacon first, then the webhook (with a marker event in the same request: once
    //    the marker is stored, the webhook's message was consumed).
    const first = uid("o");
    const page = event({ url: "http://localhost/thank-you" });
    const buyer = checkout(first);
    assert.equal((await collect({ v: 1, site: SITE, ...visitor, events: [page, buyer] }, { headers: { "User-Agent": DESKTOP_UA, Origin: ORIGIN } })).status, 202);
    await stored([page.id, buyer.id]);
    const hook = checkout(first);
    const marker = event({ name: "webhook_received", url: "http://localhost/thank-you" });
    assert.equal((await send({ v: 1, site: SITE, events: [hook, marker] })).body.accepted, 2);
    await stored([marker.id]);
    assert.deepEqual(reports(first).map((r) => r.event_id), [buyer.id], "the webhook's report was a duplicate");

    // 2. The webhook first, then the buyer's beacon (its pageview is the marker).
    const second = uid("o");
    const hook2 = checkout(second);
    assert.equal((await send({ v: 1, site: SITE, events: [hook2] })).body.accepted, 1);
    await stored([hook2.id]);
    const page2 = event({ url: "http://localhost/thank-you" });
    const buyer2 = checkout(second);
    assert.equal((await collect({ v: 1, site: SITE, ...visitor, events: [page2, buyer2] })).status, 202);
    await stored([page2.id]);
    assert.deepEqual(reports(second).map((r) => [r.event_id, r.sender]), [[hook2.id, "server"]], "the beacon's report was a duplicate");

    // 3. A webhook retried with a new event id, and two reports in one request.
    const third = uid("o");
    const hook3 = checkout(third);
    await send({ v: 1, site: SITE, events: [hook3, checkout(third)] });
    const retry = checkout(third);
    const marker3 = event({ name: "webhook_received", url: "http://localhost/thank-you" });
    await send({ v: 1, site: SITE, events: [retry, marker3] });
    await stored([hook3.id, marker3.id]);
    assert.deepEqual(reports(third).map((r) => r.event_id), [hook3.id]);

    // What reports show: three orders, each counted once, with their revenue.
    const orders = [first, second, third];
    const answer = await v2query({
      // Yesterday and today (UTC, the site's zone): "7d" ends yesterday, as Plausible's does.
      site_id: SITE, date_range: [new Date(Date.now() - 86_400_000).toISOString().slice(0, 10), new Date().toISOString().slice(0, 10)], metrics: ["events", "total_revenue"],
      filters: [["is", "event:goal", ["checkout_completed"]], ["is", "event:props:order_id", orders]],
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.results[0].metrics[0], 3);
    assert.equal(answer.body.results[0].metrics[1].value, 120);
  });

  test("a webhook that names the signed-in user or the SDK's visitor is that visitor", async () => {
    for (const ids of [{ user_id: uid("u") }, { visitor_id: uid("v") }]) {
      const page = event({ url: "http://localhost/cart" });
      assert.equal((await collect({ v: 1, site: SITE, session_id: uid("s"), ...ids, events: [page] })).status, 202);
      const order = uid("o");
      const hook = checkout(order);
      assert.equal((await send({ v: 1, site: SITE, ...ids, events: [hook] })).body.accepted, 1);
      await stored([page.id, hook.id]);
      const [browserKey] = d1(`SELECT visitor_key FROM events WHERE site_id = '${SITE}' AND event_id = '${page.id}'`);
      assert.equal(reports(order)[0].visitor_key, browserKey.visitor_key, JSON.stringify(ids));
    }
    // Without ids, two webhooks are two visitors, not one per server.
    const [a, b] = [checkout(uid("o")), checkout(uid("o"))];
    await send({ v: 1, site: SITE, events: [a] });
    await send({ v: 1, site: SITE, events: [b] });
    await stored([a.id, b.id]);
    const keys = d1(`SELECT DISTINCT visitor_key FROM events WHERE site_id = '${SITE}' AND event_id IN ('${a.id}', '${b.id}')`);
    assert.equal(keys.length, 2);
  });
});
