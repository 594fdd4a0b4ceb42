// The SDK in Chromium: the exact beacon it sends (against the golden fixture), delivery on unload,
// SPA pageviews, the <script> loader, and strict mode storing nothing.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BASE, DESKTOP_UA, ROOT, d1, eventually, launch, stats } from "./helpers.mjs";

const fixture = JSON.parse(readFileSync(join(ROOT, "tests/fixtures/beacon-v1.json"), "utf8"));
const typeOf = (v) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);
const shape = (obj) => Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, typeOf(v)]));
const nonce = () => `n${Math.random().toString(36).slice(2, 12)}`;
const rowsWith = (text) => d1(`SELECT name, path, props FROM events WHERE props LIKE '%${text}%'`);

// Headless pages never become hidden, so this hides one the way a tab switch does for both
// libraries: visibilityState reads "hidden" and visibilitychange fires.
const hide = (page) =>
  page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { get: () => "hidden", configurable: true });
    document.dispatchEvent(new Event("visibilitychange"));
  });
/** The visitor key of the events a page sent, found by the nonce of its marker event. */
const visitorOf = (n) => eventually(() => d1(`SELECT visitor_key FROM events WHERE props LIKE '%${n}%'`).at(0)?.visitor_key, 10000, "the marker");

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

describe("SDK in Chromium", () => {
  test("the first beacon has the golden fixture's shape, as text/plain", async () => {
    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    // Only the request matters here: not waiting for `load` (a slow asset on a busy machine could
    // hold it past goto's timeout while the beacon has long gone).
    const request = page.waitForRequest((r) => r.url() === `${BASE}/api/collect`, { timeout: 60_000 });
    await page.goto(`${BASE}/product?utm_source=newsletter&email=jane@example.com#top`, { waitUntil: "commit" });
    const sent = await request;
    assert.match(sent.headers()["content-type"], /^text\/plain/);
    const body = JSON.parse(sent.postData());
    assert.deepEqual(shape(body), shape(fixture));
    assert.equal(body.v, 1);
    assert.equal(body.site, "demo");
    assert.match(body.visitor_id, /^[0-9a-f]{32}$/);
    assert.match(body.session_id, /^[0-9a-f]{32}$/);
    const [pageview] = body.events;
    const expected = shape(fixture.events[0]);
    if (!("referrer" in pageview)) delete expected.referrer; // a direct visit has no referrer
    assert.deepEqual(shape(pageview), expected);
    assert.equal(pageview.name, "pageview");
    assert.equal(pageview.url, `${BASE}/product?utm_source=newsletter`, "PII and fragments are scrubbed");
    assert.match(pageview.id, /^[0-9a-f]{32}$/);
    assert.ok(Math.abs(pageview.ts - Date.now()) < 60_000);
    const stored = await page.evaluate(() => localStorage.getItem("sl_vid"));
    assert.equal(stored, body.visitor_id);
    await page.close();
  });

  test("an event fired right before navigating away arrives", async () => {
    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    const ready = page.waitForResponse((r) => r.url() === `${BASE}/api/collect` && r.status() === 202);
    await page.goto(`${BASE}/product`);
    await ready;
    const n = nonce();
    await page.evaluate((n) => window.sightline.trackEvent("unload_probe", { n }), n);
    await page.goto("about:blank");
    const rows = await eventually(() => rowsWith(n).length && rowsWith(n), 10000, "the unload event");
    assert.equal(rows.length, 1);
    assert.equal(rows[0].name, "unload_probe");
    assert.equal(rows[0].path, "/product");
    await page.close();
  });

  test("an event fired before the wasm loaded, then navigating away, arrives with its page", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    // Hold the wasm back so the call is made, and the page left, before the SDK is ready.
    await context.route("**/*.wasm", async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.goto(`${BASE}/product`, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(() => window.sightline);
    const n = nonce();
    await page.evaluate((n) => window.sightline.trackEvent("early_probe", { n }), n);
    await page.goto(`${BASE}/cart`); // the next page replays the saved call
    const rows = await eventually(() => rowsWith(n).length && rowsWith(n), 15000, "the early event");
    assert.equal(rows.length, 1);
    assert.equal(rows[0].name, "early_probe");
    assert.equal(rows[0].path, "/product", "counted on the page where it happened");
    await context.close();
  });

  test("SPA navigations are pageviews, each once", async () => {
    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    const sent = [];
    page.on("request", (r) => r.url() === `${BASE}/api/collect` && sent.push(JSON.parse(r.postData())));
    await page.goto(`${BASE}/app/`);
    await page.click('a[href="/app/orders"]');
    await page.selectOption("#order-filter", "open"); // replaceState, same path: not a new page
    await page.waitForURL("**/app/orders?status=open");
    await page.click('a[href="/app/settings"]');
    await page.goBack();
    await page.waitForURL("**/app/orders?status=open");
    await eventually(() => sent.flatMap((b) => b.events).filter((e) => e.name === "pageview").length >= 4, 10000, "four pageviews");
    await page.waitForTimeout(1500);
    const urls = sent.flatMap((b) => b.events).filter((e) => e.name === "pageview").map((e) => new URL(e.url).pathname);
    assert.deepEqual(urls, ["/app/", "/app/orders", "/app/settings", "/app/orders"]);
    await page.close();
  });

  test("hash routing: each #/route is a page, back and forward included", async () => {
    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    const sent = [];
    page.on("request", (r) => r.url() === `${BASE}/api/collect` && sent.push(JSON.parse(r.postData())));
    await page.goto(`${BASE}/hash`);
    await eventually(() => sent.length >= 1, 10000, "the first pageview");
    await page.click("#to-a");
    await page.click("#to-b");
    await page.goBack(); // #/a
    await eventually(() => sent.flatMap((b) => b.events).length >= 4, 10000, "four pageviews");
    await page.waitForTimeout(1500);
    const urls = sent.flatMap((b) => b.events).map((e) => e.url.replace(BASE, ""));
    assert.deepEqual(urls, ["/hash", "/hash#/a", "/hash#/b", "/hash#/a"]);
    await page.close();
  });

  test("a prerendered page is counted only once it is shown, and its vitals are measured from then", async () => {
    // Chromium refuses to prerender while DevTools drives it ("PrerenderingDisabledByDevTools"), so
    // the page plays a prerendered one as the browser shows it to scripts: `document.prerendering`
    // true and the page hidden until activated, then `prerenderingchange`, with `activationStart`
    // the time of activation.
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    await context.addInitScript(() => {
      let activatedAt = 0;
      Object.defineProperty(Document.prototype, "prerendering", { get: () => activatedAt === 0, configurable: true });
      Object.defineProperty(Document.prototype, "visibilityState", { get: () => (activatedAt ? "visible" : "hidden"), configurable: true });
      Object.defineProperty(PerformanceNavigationTiming.prototype, "activationStart", { get: () => activatedAt, configurable: true });
      window.__activate = () => {
        activatedAt = performance.now();
        document.dispatchEvent(new Event("prerenderingchange"));
      };
    });
    const page = await context.newPage();
    const sent = [];
    page.on("request", (r) => r.url() === `${BASE}/api/collect` && sent.push(...JSON.parse(r.postData()).events));
    const n = nonce();
    // Not waiting for `load`: in one CI run it never came for this page (a prerendered document's
    // load is not what is tested here).
    await page.goto(`${BASE}/product?utm_campaign=${n}`, { waitUntil: "domcontentloaded" });
    await page.waitForFunction(() => window.sightline);
    await page.waitForTimeout(3000); // the SDK has long started
    assert.deepEqual(sent.map((e) => e.name), [], "nothing sent while prerendered");
    await page.evaluate(() => window.__activate());
    const ofCampaign = (name) => d1(`SELECT props FROM events WHERE utm_campaign = '${n}' AND name = '${name}'`);
    await eventually(() => ofCampaign("pageview").length === 1 && ofCampaign("web_vital").length > 0, 15000, "the pageview and the first vitals");
    await page.waitForTimeout(1500);
    assert.equal(ofCampaign("pageview").length, 1, "one pageview");
    // Measured from activation, as web-vitals does: the prerender's first byte came before it.
    const ttfb = ofCampaign("web_vital").map((r) => JSON.parse(r.props)).find((p) => p.metric === "TTFB");
    assert.equal(ttfb?.value, 0, JSON.stringify(ttfb));
    await context.close();
  });

  test("trackPageview({ path, referrer }) records a page the URL does not show", async () => {
    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    const ready = page.waitForResponse((r) => r.url() === `${BASE}/api/collect` && r.status() === 202);
    await page.goto(`${BASE}/app/`);
    await ready;
    const n = nonce();
    await page.evaluate(
      (n) => window.sightline.trackPageview({ path: `/app/wizard/step-2?utm_campaign=${n}&email=jane@example.com`, referrer: "https://news.example.org/story" }),
      n,
    );
    const rows = await eventually(() => {
      const r = d1(`SELECT path, referrer_host FROM events WHERE name = 'pageview' AND utm_campaign = '${n}'`);
      return r.length && r;
    }, 15000, "the manual pageview");
    assert.deepEqual(rows, [{ path: "/app/wizard/step-2", referrer_host: "news.example.org" }]);
    await page.close();
  });

  test("the site's 404 page answers 404 and sends a `404` event with the path asked for", async () => {
    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    const path = `/no-such-page-${nonce()}`;
    const response = await page.goto(`${BASE}${path}`);
    assert.equal(response.status(), 404);
    const rows = await eventually(() => {
      const r = d1(`SELECT name, path, props FROM events WHERE path = '${path}' ORDER BY name`);
      return r.length === 2 && r;
    }, 15000, "the pageview and the 404 event");
    assert.deepEqual(rows.map((r) => r.name), ["404", "pageview"]);
    assert.equal(JSON.parse(rows[0].props).path, path);
    await page.close();
  });

  test("large batches are split into payloads under 60 KB, and every event arrives", async () => {
    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    const bodies = [];
    page.on("request", (r) => r.url() === `${BASE}/api/collect` && bodies.push(r.postData()));
    const ready = page.waitForResponse((r) => r.url() === `${BASE}/api/collect` && r.status() === 202);
    await page.goto(`${BASE}/cart`);
    await ready;
    const name = `bulky_${nonce()}`;
    // 12 events of ~15 KB (30 props of 500 characters, the most an event may carry).
    await page.evaluate((name) => {
      const props = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`p${i}`, "x".repeat(500)]));
      for (let i = 0; i < 12; i++) window.sightline.trackEvent(name, { ...props, i });
    }, name);
    const stored = await eventually(() => {
      const r = d1(`SELECT COUNT(*) AS n FROM events WHERE name = '${name}'`)[0].n;
      return r === 12 && r;
    }, 20000, "the 12 bulky events");
    assert.equal(stored, 12);
    const carrying = bodies.filter((b) => b.includes(name));
    assert.ok(carrying.length >= 3, `${carrying.length} payloads for 12 events of 15 KB`);
    for (const b of carrying) assert.ok(b.length <= 60 * 1024, `a payload of ${b.length} bytes`);
    await page.close();
  });

  test("failed sends never reach the page as errors", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    await context.addInitScript(() => {
      window.__errors = [];
      addEventListener("unhandledrejection", (e) => window.__errors.push(String(e.reason)));
      addEventListener("error", (e) => window.__errors.push(e.message));
    });
    const page = await context.newPage();
    const ready = page.waitForResponse((r) => r.url() === `${BASE}/api/collect` && r.status() === 202);
    await page.goto(`${BASE}/cart`);
    await ready;
    // The collector is now unreachable and the beacon quota full: the batch and the hide's
    // fallback fetch both fail.
    await page.evaluate(() => {
      window.fetch = () => Promise.reject(new TypeError("Failed to fetch"));
      navigator.sendBeacon = () => false;
      window.sightline.trackEvent("unreachable_probe");
    });
    await page.waitForTimeout(1500); // the batch's first try failed
    await hide(page);
    await page.waitForTimeout(500);
    assert.deepEqual(await page.evaluate(() => window.__errors), []);
    assert.ok((await page.evaluate(() => localStorage.getItem("sl_outbox"))).includes("unreachable_probe"), "kept for later");
    await context.close();
  });

  test("the <script> loader queues calls and sends them", async () => {
    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    await page.goto(`${BASE}/loader`);
    const n = nonce();
    // Called as soon as the loader ran, typically before the wasm has loaded: the call is queued.
    await page.evaluate((n) => window.sightline.trackEvent("loader_probe", { n }), n);
    const rows = await eventually(() => rowsWith(n).length && rowsWith(n), 10000, "the loader event");
    assert.equal(rows[0].path, "/loader");
    await page.close();
  });

  test("strict mode stores nothing in the browser and still counts", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    const request = page.waitForRequest((r) => r.url() === `${BASE}/api/collect`);
    await page.goto(`${BASE}/strict`);
    const body = JSON.parse((await request).postData());
    assert.equal(body.visitor_id, undefined);
    assert.equal(body.session_id, undefined);
    const storage = await page.evaluate(() => [localStorage.length, sessionStorage.length]);
    assert.deepEqual(storage, [0, 0]);
    await context.close();
  });
});

describe("SDK without wasm", () => {
  test("a CSP without 'wasm-unsafe-eval' still gets its pageview counted", async () => {
    const page = await browser.newPage({ userAgent: DESKTOP_UA });
    const warnings = [];
    page.on("console", (m) => warnings.push(`${m.type()}: ${m.text()}`));
    const before = d1("SELECT COUNT(*) AS n FROM events WHERE site_id = 'demo' AND path = '/csp'")[0].n;
    await page.goto(`${BASE}/csp?utm_source=x`);
    await eventually(() => d1("SELECT COUNT(*) AS n FROM events WHERE site_id = 'demo' AND path = '/csp'")[0].n === before + 1, 10000, "the fallback pageview");
    // d1() blocks the event loop, so console events may still be queued: wait for the warning too.
    await eventually(() => warnings.some((w) => w.includes("pageviews only")), 5000, "the console warning");
    await page.close();
  });
});

describe("auto-capture in Chromium (the storefront enables it)", () => {
  test("downloads, outbound links, form submits, engaged time, scroll depth and JS errors", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    const ready = page.waitForResponse((r) => r.url() === `${BASE}/api/collect` && r.status() === 202);
    await page.goto(`${BASE}/product`);
    await ready;
    const n = nonce();
    await page.evaluate((n) => window.sightline.trackEvent("capture_marker", { n }), n);
    const download = page.waitForEvent("download");
    await page.click("#size-guide");
    await download;
    await page.click("#maker"); // opens a new tab to another site
    await page.bringToFront();
    await page.mouse.wheel(0, 1200);
    await page.waitForTimeout(1500);
    await page.evaluate(() => setTimeout(() => { throw new Error("boom in checkout widget"); }));
    await page.waitForTimeout(300);
    await page.goto(`${BASE}/checkout`); // hides the product page: engagement is reported
    await page.fill('input[name="name"]', "Jane Doe");
    await page.click("#pay");
    await page.waitForURL("**/thank-you");
    await page.goto("about:blank");

    // The same visitor's events after the marker, read back from D1.
    const visitor = await eventually(() => d1(`SELECT visitor_key FROM events WHERE props LIKE '%${n}%'`).at(0)?.visitor_key, 10000, "the marker");
    const wanted = ["file_download", "outbound_click", "js_error", "engagement", "form_submit"];
    const rows = await eventually(() => {
      const r = d1(`SELECT name, path, props FROM events WHERE visitor_key = '${visitor}' AND name IN (${wanted.map((w) => `'${w}'`).join(",")})`);
      return wanted.every((w) => r.some((x) => x.name === w)) && r;
    }, 15000, "every auto-captured event");
    const props = (name) => rows.filter((r) => r.name === name).map((r) => JSON.parse(r.props));
    assert.deepEqual(props("file_download"), [{ url: "127.0.0.1/files/size-guide.csv" }]);
    assert.deepEqual(props("outbound_click"), [{ url: "maker.example/trail-mug" }]);
    assert.deepEqual(props("form_submit"), [{ form: "checkout-form" }]);
    assert.match(props("js_error")[0].message, /boom in checkout widget/);
    const engagement = rows.find((r) => r.name === "engagement" && r.path === "/product");
    assert.ok(engagement, JSON.stringify(rows));
    const { seconds, scroll } = JSON.parse(engagement.props);
    assert.ok(seconds >= 1, `engaged ${seconds} s`);
    assert.ok(scroll > 30 && scroll <= 100, `scrolled ${scroll} %`);
    assert.ok(!JSON.stringify(rows).includes("Jane"), "form fields are never recorded");
    await context.close();
  });
});

describe("web vitals in Chromium", () => {
  test("the vitals the SDK reports agree with web-vitals on the same page", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    const ready = page.waitForResponse((r) => r.url() === `${BASE}/api/collect` && r.status() === 202);
    await page.goto(`${BASE}/vitals`);
    await ready;
    const n = nonce();
    await page.evaluate((n) => window.sightline.trackEvent("vitals_marker", { n }), n);
    await page.waitForTimeout(1000); // the banner shifts the layout
    await page.click("#slow"); // an interaction of about 150 ms; LCP is final now
    await page.waitForTimeout(500);
    await hide(page); // CLS and INP go out

    const visitor = await visitorOf(n);
    const read = (name) =>
      Object.fromEntries(
        // In time order, so a metric reported twice (INP as it grows) ends with its latest value.
        d1(`SELECT props FROM events WHERE visitor_key = '${visitor}' AND name = '${name}' AND path = '/vitals' ORDER BY ts`)
          .map((r) => JSON.parse(r.props))
          .map((p) => [p.metric, p.value]),
      );
    // The page asks web-vitals for INP as the click is processed (reportAllChanges: its final INP
    // comes from an idle callback after the hide, which this simulated hide does not reach); the
    // page has that one interaction, so both libraries report the same interaction.
    const compared = ["TTFB", "FCP", "LCP", "CLS", "INP"];
    const [ours, theirs] = await eventually(() => {
      const pair = [read("web_vital"), read("wv_reference")];
      return compared.every((m) => m in pair[0] && m in pair[1]) && pair;
    }, 15000, "the metrics from both");
    for (const m of compared) {
      const tolerance = m === "CLS" ? 0.001 : 1;
      assert.ok(Math.abs(ours[m] - theirs[m]) <= tolerance, `${m}: sightline ${ours[m]}, web-vitals ${theirs[m]}`);
    }
    assert.ok(theirs.CLS > 0, "the page did shift");
    assert.ok(ours.INP >= 150 && ours.INP < 400, `INP ${ours.INP} ms for a 150 ms click handler`);
    const report = await stats("demo", "vitals");
    assert.ok(report.body.results.some((r) => r.value === "LCP" && r.p75 > 0), JSON.stringify(report.body));
    await context.close();
  });

  test("a back/forward-cache restore is one more pageview, and its vitals are measured again as web-vitals does", async () => {
    // Playwright turns the back/forward cache off by default; this browser keeps Chromium's default.
    const cached = await launch({ ignoreDefaultArgs: ["--disable-back-forward-cache"] });
    try {
      const page = await cached.newPage({ userAgent: DESKTOP_UA });
      await page.addInitScript(() => {
        window.__restores = 0;
        addEventListener("pageshow", (e) => e.persisted && window.__restores++);
      });
      const ready = page.waitForResponse((r) => r.url() === `${BASE}/api/collect` && r.status() === 202);
      await page.goto(`${BASE}/vitals`);
      await ready;
      const n = nonce();
      await page.evaluate((n) => window.sightline.trackEvent("vitals_marker", { n }), n);
      await page.waitForTimeout(1000); // the banner's shift, and the marker's batch answered
      await page.goto(`${BASE}/cart`);
      await page.goBack({ waitUntil: "commit" }); // a restore fires pageshow, not load
      await page.waitForFunction(() => window.__restores === 1, null, { timeout: 10000 }); // from the back/forward cache
      await page.waitForTimeout(500);
      await hide(page); // the restored page's CLS goes out

      const visitor = await visitorOf(n);
      const rows = (name) =>
        d1(`SELECT props FROM events WHERE visitor_key = '${visitor}' AND name = '${name}' AND path = '/vitals' ORDER BY ts`).map((r) => JSON.parse(r.props));
      // Each metric twice (the first page view, then the restored one), in time order.
      const twice = (list) => {
        const by = {};
        for (const p of list) (by[p.metric] ??= []).push(p.value);
        return ["TTFB", "FCP", "LCP", "CLS"].every((m) => by[m]?.length === 2) && by;
      };
      const [ours, theirs] = await eventually(() => {
        const pair = [twice(rows("web_vital")), twice(rows("wv_reference"))];
        return pair[0] && pair[1] && pair;
      }, 15000, "every metric twice from both libraries");
      assert.equal(ours.TTFB[1], 0, "a restored page has no time to first byte");
      assert.equal(theirs.TTFB[1], 0);
      assert.equal(ours.CLS[1], 0, "the restored page did not shift: CLS starts again");
      assert.equal(theirs.CLS[1], 0);
      // FCP and LCP of the restored page: both libraries time the restore to the frame after its
      // paint (two animation frames), each reading the clock in its own callback of the same frames:
      // they differ by the work run between those callbacks (this page's, the pageview's), under a frame.
      for (const m of ["FCP", "LCP"]) {
        assert.ok(Math.abs(ours[m][1] - theirs[m][1]) <= 25, `${m} after restore: sightline ${ours[m][1]}, web-vitals ${theirs[m][1]}`);
        assert.ok(ours[m][1] > 0 && ours[m][1] < 1000, `${m} after restore: ${ours[m][1]} ms`);
      }
      const pageviews = d1(`SELECT COUNT(*) AS n FROM events WHERE visitor_key = '${visitor}' AND name = 'pageview' AND path = '/vitals'`)[0].n;
      assert.equal(pageviews, 2, "the first load and the restore, each counted once");
    } finally {
      await cached.close();
    }
  });
});
