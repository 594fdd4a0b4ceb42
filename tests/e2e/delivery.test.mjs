// Delivery in Chromium: no event is lost offline, on a collector error, or when the page goes away
// before its events are confirmed; and none is counted twice, however often it is resent.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BASE, DESKTOP_UA, d1, eventually, launch, stats } from "./helpers.mjs";

const nonce = () => `n${Math.random().toString(36).slice(2, 12)}`;
const rowsNamed = (name) => d1(`SELECT name, props FROM events WHERE site_id = 'demo' AND name = '${name}'`);
const outbox = (page) => page.evaluate(() => (localStorage.getItem("sl_outbox") ?? "").split("\n").filter(Boolean).length);
const counted = async (name) =>
  (await stats("demo", "events")).body.results.find((r) => r.value === name)?.count ?? 0;

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

async function openProduct(context) {
  const page = await context.newPage();
  const confirmed = page.waitForResponse((r) => r.url() === `${BASE}/api/collect` && r.status() === 202);
  await page.goto(`${BASE}/product`);
  await confirmed; // the pageview is delivered
  await eventually(async () => (await outbox(page)) === 0, 10000, "the pageview to leave the outbox");
  return page;
}

describe("delivery in Chromium", () => {
  test("offline, then online: every event arrives exactly once", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await openProduct(context);
    const name = `offline_${nonce()}`;
    await context.setOffline(true); // Chrome DevTools Protocol network emulation
    for (let i = 0; i < 3; i++) await page.evaluate(([name, i]) => window.sightline.trackEvent(name, { i }), [name, i]);
    await page.waitForTimeout(2500); // the first send and at least one retry fail
    const stored = await page.evaluate(() => localStorage.getItem("sl_outbox") ?? "");
    const kept = stored.split("\n").filter((line) => line.includes(`"name":"${name}"`));
    assert.equal(kept.length, 3, "unconfirmed events are kept in localStorage");
    assert.equal(rowsNamed(name).length, 0);
    await context.setOffline(false);
    await eventually(async () => (await outbox(page)) === 0, 15000, "the outbox to drain");
    // Confirmed means queued: the consumer stores them a moment later.
    await eventually(() => rowsNamed(name).length >= 3, 20000, "the three events stored");
    assert.deepEqual(rowsNamed(name).map((r) => JSON.parse(r.props).i).sort(), [0, 1, 2]);
    assert.equal(await eventually(async () => (await counted(name)) === 3 && 3, 10000, "the events counted"), 3);
    await context.close();
  });

  test("a 5xx from the collector is retried until it is accepted", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await openProduct(context);
    const name = `retry_${nonce()}`;
    const seen = [];
    await page.route(`${BASE}/api/collect`, (route) => {
      seen.push(Date.now());
      if (seen.length <= 2) {
        return route.fulfill({ status: 503, contentType: "application/json", body: '{"error":"unavailable"}', headers: { "access-control-allow-origin": "*" } });
      }
      return route.continue();
    });
    await page.evaluate((name) => window.sightline.trackEvent(name), name);
    await eventually(() => rowsNamed(name).length === 1, 20000, "the retried event");
    assert.ok(seen.length >= 3, `sent ${seen.length} times`);
    await eventually(async () => (await outbox(page)) === 0, 5000, "the outbox to drain");
    assert.equal(await counted(name), 1);
    await context.close();
  });

  test("429 Retry-After is honoured", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await openProduct(context);
    const name = `slow_${nonce()}`;
    const seen = [];
    await page.route(`${BASE}/api/collect`, (route) => {
      seen.push(Date.now());
      if (seen.length === 1) {
        return route.fulfill({
          status: 429,
          contentType: "application/json",
          body: '{"error":"rate_limited"}',
          headers: { "access-control-allow-origin": "*", "access-control-expose-headers": "Retry-After", "retry-after": "3" },
        });
      }
      return route.continue();
    });
    await page.evaluate((name) => window.sightline.trackEvent(name), name);
    await eventually(() => rowsNamed(name).length === 1, 15000, "the event after Retry-After");
    assert.ok(seen[1] - seen[0] >= 2900, `retried after ${seen[1] - seen[0]} ms`);
    await context.close();
  });

  test("events left unconfirmed by a closed page are sent by the next one, counted once", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await openProduct(context);
    const name = `resend_${nonce()}`;
    await context.setOffline(true);
    await page.evaluate((name) => window.sightline.trackEvent(name), name);
    await eventually(async () => (await page.evaluate(() => localStorage.getItem("sl_outbox") ?? "")).includes(name), 5000, "the event stored by the failed flush");
    await page.goto("about:blank"); // leaving fires pagehide; its beacon goes nowhere: offline
    await page.close();
    await context.setOffline(false);
    const next = await context.newPage();
    await next.goto(`${BASE}/cart`);
    await eventually(() => rowsNamed(name).length === 1, 15000, "the resent event");
    await eventually(async () => (await outbox(next)) === 0, 5000, "the outbox to drain");
    assert.equal(await counted(name), 1);
    await context.close();
  });

  test("a full outbox drops its oldest events and counts them; the next page reports the count once", async () => {
    const lostSoFar = async () => (await stats("demo", "overview")).body.lost_in_browser;
    const before = await lostSoFar();
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    // The <script> loader's page: no auto-capture, so the page adds no events of its own on hide.
    const page = await context.newPage();
    const confirmed = page.waitForResponse((r) => r.url() === `${BASE}/api/collect` && r.status() === 202);
    await page.goto(`${BASE}/hash`);
    await confirmed;
    await eventually(async () => (await outbox(page)) === 0, 10000, "the pageview to leave the outbox");
    const name = `burst_${nonce()}`;
    // From now on this page reaches no collector: its fetches fail and its beacons are refused.
    // (Stubbed in the page rather than by Playwright's network emulation or routing, which do not
    // hold for the keepalive requests of a page being closed: those get through, or stay pending.)
    await page.evaluate(() => {
      window.fetch = () => Promise.reject(new TypeError("Failed to fetch"));
      navigator.sendBeacon = () => false;
    });
    // 505 events into an outbox of 500: the 5 oldest go.
    await page.evaluate((name) => {
      for (let i = 0; i < 505; i++) window.sightline.trackEvent(name, { i });
    }, name);
    await eventually(async () => (await page.evaluate(() => localStorage.getItem("sl_lost"))) === "5", 10000, "the drop count stored");
    assert.equal(await outbox(page), 500);
    await page.goto("about:blank"); // its sends on hide fail too
    await page.close();
    const next = await context.newPage();
    const reports = [];
    next.on("request", (r) => r.url() === `${BASE}/api/collect` && reports.push(JSON.parse(r.postData()).lost ?? 0));
    // The next page's own pageview joins the 500 stored events: one more (the oldest) is dropped.
    await next.goto(`${BASE}/hash`);
    await eventually(async () => (await outbox(next)) === 0, 20000, "the outbox to drain");
    assert.equal(await next.evaluate(() => localStorage.getItem("sl_lost")), null, "the count is cleared once confirmed");
    assert.deepEqual(reports.filter((n) => n > 0), [6], "one batch carried the count");
    const kept = await eventually(() => rowsNamed(name).length === 499 && rowsNamed(name), 20000, "the 499 kept events stored");
    const indexes = kept.map((r) => JSON.parse(r.props).i).sort((a, b) => a - b);
    assert.deepEqual([indexes[0], indexes.at(-1)], [6, 504], "the oldest were the ones dropped");
    assert.equal(await eventually(async () => (await lostSoFar()) - before === 6 && 6, 15000, "the overview's lost_in_browser"), 6);
    await context.close();
  });

  test("a beacon the browser refuses goes out with fetch keepalive", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    // A full beacon quota: sendBeacon returns false.
    await context.addInitScript(() => (navigator.sendBeacon = () => false));
    const page = await openProduct(context);
    const name = `refused_${nonce()}`;
    await page.evaluate((name) => window.sightline.trackEvent(name), name);
    await page.goto("about:blank"); // before the batch timer: only the hide can send it
    await eventually(() => rowsNamed(name).length === 1, 15000, "the event sent by fetch on hide");
    await context.close();
  });

  test("a request that hangs is given up after 20 s and retried", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await openProduct(context);
    const name = `hung_${nonce()}`;
    let held = 0;
    await page.route(`${BASE}/api/collect`, (route) => {
      if (held++ === 0) return; // never answered: a stalled connection
      return route.continue();
    });
    const started = Date.now();
    await page.evaluate((name) => window.sightline.trackEvent(name), name);
    await eventually(() => rowsNamed(name).length === 1, 40000, "the event, retried after the timeout");
    const waited = Date.now() - started;
    assert.ok(held >= 2, `sent ${held} times`);
    assert.ok(waited >= 20000, `delivered after ${waited} ms: the hung request was not waited out`);
    await eventually(async () => (await outbox(page)) === 0, 5000, "the outbox to drain");
    await context.close();
  });
});
