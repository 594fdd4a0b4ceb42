// Faults: the worker runs with FAULTS=collect=0.3,consumer=0.3 (scripts/test.sh), so for `fault-`
// sites it answers 503 to about a third of the beacons and fails about a third of the queue batches.
// Every beacon is also sent three times. Nothing may be lost, nothing counted twice.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { BASE, DESKTOP_UA, beacon, collect, createSite, d1, event, eventually, launch, stats, storedEvents, uid } from "./helpers.mjs";

const DEV_LOG = process.env.SIGHTLINE_DEV_LOG;

/** Sends until the collector accepts, as the SDK does; returns how many 503s it met. */
async function sendUntilAccepted(body) {
  for (let failures = 0; failures < 30; failures++) {
    const res = await collect(body);
    if (res.status === 202) return failures;
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.error, "unavailable");
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("never accepted");
}

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

describe("faults", () => {
  test("beacons sent three times through 503s and failing queue batches: zero lost, zero double-counted", async () => {
    const site = await createSite(`fault-${uid("")}`.slice(0, 40));
    const deadLetters = () => d1("SELECT COALESCE(SUM(events), 0) AS n FROM dead_letters")[0].n;
    const deadBefore = deadLetters();
    const t0 = Date.now() - 3600_000;
    const beacons = Array.from({ length: 40 }, (_, i) =>
      beacon(site, [
        event({ ts: t0 + i * 1000, url: `http://localhost/p${i % 7}` }),
        ...Array.from({ length: i % 4 }, (_, j) => event({ ts: t0 + i * 1000 + j + 1, name: "cart_add", props: { j } })),
      ]),
    );
    const expected = beacons.reduce((n, b) => n + b.events.length, 0);
    let refused = 0;
    for (const body of beacons) for (let copy = 0; copy < 3; copy++) refused += await sendUntilAccepted(body);
    assert.ok(refused > 0, "the collector's injected 503s were met");

    assert.equal(await storedEvents(site, expected, 60000), expected);
    await new Promise((r) => setTimeout(r, 3000)); // late redeliveries, if any, would land now
    assert.equal(d1(`SELECT COUNT(*) AS n FROM events WHERE site_id = '${site}'`)[0].n, expected);
    const overview = (await stats(site, "overview", "period=7d")).body;
    assert.equal(overview.pageviews, 40);
    assert.equal(overview.visits, 40);
    const events = (await stats(site, "events", "period=7d")).body.results;
    assert.deepEqual(events, [{ value: "cart_add", visitors: 30, count: expected - 40 }]);
    assert.equal(deadLetters(), deadBefore, "nothing dead-lettered");
    if (DEV_LOG) {
      const retried = readFileSync(DEV_LOG, "utf8").split("\n").filter((l) => /QUEUE sightline-events 0\/\d+/.test(l));
      assert.ok(retried.length > 0, "some queue batches failed and were retried");
    }
  });

  test("the SDK in Chromium retries through the collector's 503s: every event once", async () => {
    const site = await createSite(`fault-sdk-${uid("")}`.slice(0, 40));
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    // A page of the site's own, embedding the hosted loader for the fault site.
    await page.route(`${BASE}/fault-page`, (route) =>
      route.fulfill({
        contentType: "text/html",
        body: `<!doctype html><title>fault</title><script src="/sightline.js" data-site="${site}" defer></script>`,
      }),
    );
    const statuses = [];
    page.on("response", (r) => r.url().endsWith("/api/collect") && statuses.push(r.status()));
    await page.goto(`${BASE}/fault-page`);
    await page.waitForFunction(() => window.sightline);
    for (let i = 0; i < 12; i++) {
      await page.evaluate((i) => window.sightline.trackEvent("form.submit", { i }), i);
      await page.waitForTimeout(150);
    }
    // Backoff doubles from 1 s after each refused send, so a run of 503s can take a while.
    assert.equal(await storedEvents(site, 13, 150000), 13);
    await new Promise((r) => setTimeout(r, 3000));
    const rows = d1(`SELECT name, props FROM events WHERE site_id = '${site}'`);
    assert.equal(rows.length, 13, "one pageview and twelve events, each once");
    const seen = rows.filter((r) => r.name === "form.submit").map((r) => JSON.parse(r.props).i).sort((a, b) => a - b);
    assert.deepEqual(seen, [...Array(12).keys()]);
    assert.ok(statuses.includes(503), `the SDK met injected 503s: ${statuses}`);
    await context.close();
  });
});
