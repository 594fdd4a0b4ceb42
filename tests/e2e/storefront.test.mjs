// The storefront, as a shopper uses it in Chromium: the SDK comes from the packed npm tarball, every
// page and event reaches the collector and D1, and the stats API and the dashboard report them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BASE, DESKTOP_UA, ROOT, d1, eventually, launch, settled, stats, TOKEN, v2query } from "./helpers.mjs";

const sha = (buf) => createHash("sha256").update(buf).digest("hex");
let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

/** The demo site's counters that the shopping trip below moves. */
async function counters() {
  const [overview, events, revenue] = await Promise.all([
    stats("demo", "overview"),
    stats("demo", "events"),
    stats("demo", "revenue"),
  ]);
  const count = (name) => events.body.results.find((r) => r.value === name)?.count ?? 0;
  return {
    pageviews: overview.body.pageviews,
    cart_add: count("cart_add"),
    checkout_started: count("checkout_started"),
    purchase: count("purchase"),
    eur: revenue.body.results.find((r) => r.value === "EUR")?.revenue ?? 0,
  };
}

describe("storefront in Chromium", () => {
  test("the page runs the SDK wasm from the packed npm tarball", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sightline-tgz-"));
    execFileSync("tar", ["-xzf", join(ROOT, "sdk/dist/sightline-sdk.tgz"), "-C", dir]);
    // The storefront asks for web vitals and auto-capture: the full build.
    const packed = sha(readFileSync(join(dir, "package/wasm/sightline-full.wasm")));
    const lock = JSON.parse(readFileSync(join(ROOT, "www/node_modules/.package-lock.json"), "utf8"));
    assert.match(lock.packages["node_modules/@sightline/sdk"].resolved, /sightline-sdk\.tgz$/);

    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    const wasm = page.waitForResponse((r) => r.url().endsWith(".wasm"));
    await page.goto(`${BASE}/`);
    assert.equal(sha(await (await wasm).body()), packed, "served wasm differs from the tarball's");
    await page.close();
  });

  test("a shopping trip lands in D1 and the stats API reports it exactly", async () => {
    // Events of earlier tests may still be in the queue: start from numbers that have settled.
    const before = await settled(counters);
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    await page.goto(`${BASE}/`);
    await page.click("#to-product");
    await page.waitForURL("**/product");
    await page.click("#add-to-cart");
    await page.click("#to-cart");
    await page.waitForURL("**/cart");
    await page.click("#to-checkout");
    await page.waitForURL("**/checkout");
    await page.click("#pay");
    await page.waitForURL("**/thank-you");
    const orderId = await page.textContent("#order-id");
    await page.goto("about:blank"); // leaving the page flushes the last beacon
    await context.close();

    const expected = {
      pageviews: before.pageviews + 5,
      cart_add: before.cart_add + 1,
      checkout_started: before.checkout_started + 1,
      purchase: before.purchase + 1,
      eur: before.eur + 24.5,
    };
    await eventually(async () => JSON.stringify(await counters()) === JSON.stringify(expected), 15000, "stats").catch(async (e) => {
      assert.deepEqual(await counters(), expected);
      throw e;
    });
    assert.deepEqual(await counters(), expected);

    const rows = d1(`SELECT name, path, props, country FROM events WHERE site_id = 'demo' AND props LIKE '%${orderId}%'`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].name, "purchase");
    assert.equal(rows[0].path, "/thank-you");
    assert.deepEqual(JSON.parse(rows[0].props), { order_id: orderId, value: 24.5, currency: "EUR", items: 1 });
  });

  test("the dashboard shows today's storefront traffic as the query API counts it", async () => {
    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    // Yesterday and today (UTC, the demo site's zone): events sent just before midnight still count.
    const day = (ago) => new Date(Date.now() - ago * 86400000).toISOString().slice(0, 10);
    const range = [day(1), day(0)];
    await page.goto(`${BASE}/dashboard/?period=custom:${range}#site=demo&token=${TOKEN}`);
    await page.waitForSelector('.stat[data-metric="pageviews"] .value');
    assert.ok(!page.url().includes(TOKEN), "the token is removed from the address bar");
    const body = (metrics) => ({ site_id: "demo", metrics, date_range: range });
    const [pageviews, visitors] = (await settled(() => v2query(body(["pageviews", "visitors"])).then((r) => r.body.results[0].metrics))).map(Number);
    await page.reload();
    await page.waitForSelector('.stat[data-metric="pageviews"] .value');
    const shown = (metric) => page.$eval(`.stat[data-metric="${metric}"] .value`, (e) => JSON.parse(e.dataset.value));
    assert.ok(pageviews > 0);
    assert.equal(await shown("pageviews"), pageviews);
    assert.equal(await shown("visitors"), visitors);
    // Events lost in browsers: a line when there are any (the delivery suite overflows an outbox).
    const lost = (await v2query(body(["lost_in_browser"]))).body.results[0].metrics[0];
    await eventually(async () => (await page.$eval("#lost", (el) => Number(el.dataset.lost)).catch(() => 0)) === lost, 20000, "the lost line");
    assert.ok((await page.$$("#panel-pages table.rows tbody tr")).length >= 1);
    await page.close();
  });
});
