// Calls a page makes before the SDK's wasm is ready, in Chromium: optOut(), consent(false),
// identify() and reset() take effect before the first pageview, through the hosted <script> and the
// npm module alike; calls saved by a page that left before its wasm loaded keep their order on the
// next page (an opt-out wins over a queued pageview); and the no-wasm fallback (a CSP without
// 'wasm-unsafe-eval') respects an opt-out. The wasm is held back by routing its request until the
// calls are made: no race with the download.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BASE, DESKTOP_UA, ROOT, eventually, launch } from "./helpers.mjs";

const VERSION = JSON.parse(readFileSync(join(ROOT, "sdk/npm/package.json"), "utf8")).version;

// The npm module as a bundler-less page imports it: the versioned copy the collector hosts.
const npmPage = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">
import * as sightline from "/sdk/${VERSION}/index.js";
sightline.init({ site: "demo" });
window.sightline = sightline;
</script></head><body><h1>The npm module</h1></body></html>`;
const NO_WASM_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; connect-src 'self'";

/** How a page gets the SDK: its URL, and a route serving it when the site has no such page. */
const embeds = {
  "<script>": { path: "/loader", csp: "/csp" },
  npm: { path: "/early-npm", csp: "/early-npm-csp" },
};

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

/** Records every batch the page hands to fetch or sendBeacon, in the page, as it is handed over. */
function record() {
  window.__sent = [];
  const keep = (url, body) => {
    if (String(url).includes("/api/collect")) window.__sent.push(JSON.parse(body));
  };
  const send = window.fetch;
  window.fetch = function (url, init) {
    keep(url, init?.body);
    return send.apply(this, arguments);
  };
  const beacon = navigator.sendBeacon.bind(navigator);
  navigator.sendBeacon = (url, body) => {
    keep(url, body);
    return beacon(url, body);
  };
}

/**
 * A fresh profile whose wasm requests are held until `release()` (or let through after `pass()`):
 * `requested` resolves once the SDK has asked for its wasm (init ran; the wasm is not there yet).
 */
async function open() {
  const context = await browser.newContext({ userAgent: DESKTOP_UA });
  await context.addInitScript(record);
  await context.route(`${BASE}/early-npm*`, (route) =>
    route.fulfill({
      contentType: "text/html",
      body: npmPage,
      headers: route.request().url().includes("-csp") ? { "Content-Security-Policy": NO_WASM_CSP } : {},
    }),
  );
  const held = [];
  let hold = false;
  let asked;
  let requested;
  await context.route("**/*.wasm", (route) => {
    if (!hold) return route.continue();
    held.push(route);
    asked();
  });
  const page = await context.newPage();
  const warnings = [];
  page.on("console", (m) => warnings.push(m.text()));
  return {
    context,
    page,
    warnings,
    /** Holds the wasm of the next loads. */
    hold() {
      hold = true;
      requested = new Promise((r) => (asked = r));
    },
    /** Resolves once the held page asked for its wasm. */
    requested: () => requested,
    /** Lets the held wasm load, and every later one. */
    release() {
      hold = false;
      for (const r of held.splice(0)) r.continue().catch(() => {});
    },
    /** Later loads get their wasm; a held one stays held (its page is about to go away). */
    pass() {
      hold = false;
    },
  };
}

/** Loads `path` with the wasm held, makes `calls` (a function run in the page), then lets it load. */
async function earlyCalls(o, path, calls, arg) {
  o.hold();
  await o.page.goto(`${BASE}${path}`, { waitUntil: "commit" });
  await o.requested();
  await o.page.evaluate(calls, arg);
  o.release();
}

/** Waits until the SDK has started on the page (it wraps history.pushState as it does). */
const started = (page) => page.waitForFunction(() => !String(history.pushState).includes("[native code]"), null, { timeout: 10000 });
const sent = (page) => page.evaluate(() => window.__sent);
const stored = (page) => page.evaluate(() => Object.keys({ ...localStorage, ...sessionStorage }).filter((k) => k.startsWith("sl_")).sort());
/**
 * The first batch the page sent that carries a `name` event (the first pageview unless told) other
 * than those of `earlier` (a batch of an earlier page: if that page went before the collector's
 * answer came, this page resends it from the outbox, with its own session, and that is no new event).
 */
const batchWith = async (page, name = "pageview", earlier = undefined) =>
  (
    await page.waitForFunction(
      ([name, old]) => window.__sent.find((b) => b.events.some((e) => e.name === name && !old.includes(e.id))),
      [name, earlier?.events.map((e) => e.id) ?? []],
      { timeout: 10000 },
    )
  ).jsonValue();
/** A visit with the wasm loading normally: the first batch, once sent. */
async function visit(o, path) {
  await o.page.goto(`${BASE}${path}`);
  return batchWith(o.page);
}

for (const [embed, { path, csp }] of Object.entries(embeds)) {
  describe(`calls before the wasm is ready (${embed})`, () => {
    test("optOut(): the first pageview is never sent, and nothing but the opt-out is stored", async () => {
      const o = await open();
      await earlyCalls(o, path, () => window.sightline.optOut());
      await started(o.page);
      assert.deepEqual(await sent(o.page), []);
      assert.deepEqual(await stored(o.page), ["sl_optout"]);
      await o.context.close();
    });

    test("consent(false): the first pageview carries no ids, and the stored ones are wiped", async () => {
      const o = await open();
      const first = await visit(o, path);
      assert.match(first.visitor_id, /^[0-9a-f]{32}$/, "an id was stored by the first visit");
      await earlyCalls(o, path, () => window.sightline.consent(false));
      const batch = await batchWith(o.page, "pageview", first);
      assert.equal(batch.visitor_id, undefined);
      assert.equal(batch.session_id, undefined);
      assert.deepEqual(await stored(o.page), []);
      await o.context.close();
    });

    test("identify(): the first pageview carries the user id", async () => {
      const o = await open();
      await earlyCalls(o, path, () => window.sightline.identify("user_early"));
      const batch = await batchWith(o.page);
      assert.equal(batch.user_id, "user_early");
      await o.context.close();
    });

    test("reset(): the first pageview starts a new session for the same visitor", async () => {
      const o = await open();
      const first = await visit(o, path);
      await earlyCalls(o, path, () => window.sightline.reset());
      const batch = await batchWith(o.page, "pageview", first);
      assert.equal(batch.visitor_id, first.visitor_id);
      assert.match(batch.session_id, /^[0-9a-f]{32}$/);
      assert.notEqual(batch.session_id, first.session_id);
      await o.context.close();
    });

    test("a page that leaves before its wasm loads: its optOut() wins over its queued pageview on the next page", async () => {
      const o = await open();
      o.hold();
      await o.page.goto(`${BASE}${path}`, { waitUntil: "commit" });
      await o.requested();
      await o.page.evaluate(() => {
        window.sightline.trackPageview();
        window.sightline.trackEvent("before_opt_out");
        window.sightline.optOut();
      });
      o.pass();
      await o.page.goto(`${BASE}${path}`); // the first page's wasm never arrived
      await started(o.page);
      assert.deepEqual(await sent(o.page), []);
      assert.deepEqual(await stored(o.page), ["sl_optout"]);
      await o.context.close();
    });

    test("a page that leaves before its wasm loads: its saved calls keep their order with identify()", async () => {
      const o = await open();
      o.hold();
      await o.page.goto(`${BASE}${path}`, { waitUntil: "commit" });
      await o.requested();
      await o.page.evaluate(() => {
        window.sightline.trackEvent("saved_anonymous");
        window.sightline.identify("user_saved");
        window.sightline.trackEvent("saved_identified");
      });
      o.pass();
      await o.page.goto(`${BASE}${path}`);
      const anonymous = await batchWith(o.page, "saved_anonymous");
      const identified = await batchWith(o.page, "saved_identified");
      assert.equal(anonymous.user_id, undefined, "sent before the identify()");
      assert.equal(identified.user_id, "user_saved");
      await o.context.close();
    });

    test("without wasm (CSP): an optOut() made before the fallback sends no pageview", async () => {
      const o = await open();
      await earlyCalls(o, csp, () => window.sightline.optOut());
      await eventually(() => o.warnings.some((w) => w.includes("pageviews only")), 10000, "the fallback's warning");
      assert.deepEqual(await sent(o.page), []);
      await o.context.close();
    });

    test("without wasm (CSP): an opt-out stored by an earlier page sends no pageview", async () => {
      const o = await open();
      await visit(o, path);
      await o.page.evaluate(() => window.sightline.optOut());
      await o.page.goto(`${BASE}${csp}`);
      await eventually(() => o.warnings.some((w) => w.includes("pageviews only")), 10000, "the fallback's warning");
      assert.deepEqual(await sent(o.page), []);
      await o.context.close();
    });
  });
}

