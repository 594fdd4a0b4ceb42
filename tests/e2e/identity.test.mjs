// Identity and privacy in Chromium: Global Privacy Control and Do-Not-Track, consent, opt-out,
// identify/reset and internal (staff) traffic, asserted on the batches the SDK sends and on what it
// stores.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BASE, DESKTOP_UA, d1, eventually, launch } from "./helpers.mjs";

let browser;
before(async () => {
  browser = await launch();
});
after(() => browser?.close());

/** A fresh browser profile with a recorder of every batch the SDK posts. */
async function open(path, { init } = {}) {
  const context = await browser.newContext({ userAgent: DESKTOP_UA });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const sent = [];
  page.on("request", (r) => r.url() === `${BASE}/api/collect` && sent.push(JSON.parse(r.postData())));
  const warnings = [];
  page.on("console", (m) => m.type() === "warning" && warnings.push(m.text()));
  await page.goto(`${BASE}${path}`);
  await eventually(() => sent.length > 0, 10000, "the first batch");
  const stored = () => page.evaluate(() => Object.keys({ ...localStorage, ...sessionStorage }).filter((k) => k.startsWith("sl_")).sort());
  const events = () => sent.flatMap((b) => b.events.map((e) => ({ ...e, batch: b })));
  const next = async (name) => {
    await page.evaluate((name) => window.sightline.trackEvent(name), name);
    return (await eventually(() => events().find((e) => e.name === name), 10000, name)).batch;
  };
  return { context, page, sent, stored, next, warnings };
}

describe("identity and privacy in Chromium", () => {
  const signals = {
    "Global Privacy Control": () => Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true }),
    "Do-Not-Track": () => Object.defineProperty(Navigator.prototype, "doNotTrack", { get: () => "1" }),
  };
  for (const [signal, init] of Object.entries(signals)) {
    test(`${signal} means strict: no ids sent, nothing stored`, async () => {
      const { context, sent, stored, next } = await open("/product", { init });
      assert.equal(sent[0].visitor_id, undefined);
      assert.equal(sent[0].session_id, undefined);
      await next("privacy_signal_probe");
      assert.deepEqual(await stored(), []);
      await context.close();
    });
  }

  test("requireConsent: strict until consent(true), ids wiped on consent(false)", async () => {
    const { context, page, sent, stored, next } = await open("/consent");
    assert.equal(sent[0].visitor_id, undefined);
    assert.deepEqual(await stored(), []);
    await page.click("#agree");
    const agreed = await next("consent_given_probe");
    assert.match(agreed.visitor_id, /^[0-9a-f]{32}$/);
    assert.match(agreed.session_id, /^[0-9a-f]{32}$/);
    assert.ok((await stored()).includes("sl_vid"));
    await page.click("#decline");
    assert.deepEqual(await stored(), []);
    const declined = await next("consent_withdrawn_probe");
    assert.equal(declined.visitor_id, undefined);
    await context.close();
  });

  test("optOut() stops tracking in this browser, across page loads", async () => {
    const { context, page, sent, stored } = await open("/loader");
    await page.evaluate(() => window.sightline.optOut());
    assert.deepEqual(await stored(), ["sl_optout"]);
    const before = sent.length;
    await page.evaluate(() => window.sightline.trackEvent("opted_out_probe"));
    await page.reload();
    await page.waitForTimeout(2500);
    assert.equal(sent.length, before, "nothing is sent after optOut()");
    await page.evaluate(() => localStorage.removeItem("sl_optout")); // leave the profile clean
    await context.close();
  });

  test("identify() refuses emails, carries internal ids; reset() forgets it and rotates the session", async () => {
    const { context, page, next, warnings } = await open("/loader");
    await page.evaluate(() => window.sightline.identify("jane@example.com"));
    assert.ok(warnings.some((w) => w.includes("identify()")), warnings.join("\n"));
    assert.equal((await next("anonymous_probe")).user_id, undefined);
    await page.evaluate(() => window.sightline.identify("user_42"));
    const known = await next("identified_probe");
    assert.equal(known.user_id, "user_42");
    await page.evaluate(() => window.sightline.reset());
    const after = await next("reset_probe");
    assert.equal(after.user_id, undefined);
    assert.notEqual(after.session_id, known.session_id);
    assert.equal(after.visitor_id, known.visitor_id);
    await context.close();
  });

  test("staff events carry is_internal: true", async () => {
    const { context, page, next } = await open("/loader");
    const name = `admin:course_created_${Math.random().toString(36).slice(2, 8)}`;
    const batch = await next(name);
    assert.equal(batch.events.find((e) => e.name === name).props.is_internal, true);
    const plain = await next("storefront_probe");
    assert.equal(plain.events.find((e) => e.name === "storefront_probe").props, undefined);
    const rows = await eventually(() => d1(`SELECT props FROM events WHERE name = '${name}'`).at(0), 10000, "the stored staff event");
    assert.equal(JSON.parse(rows.props).is_internal, true);
    await page.close();
    await context.close();
  });
});

describe("props, URLs and beforeSend in Chromium", () => {
  test("props are checked: PII and secrets dropped with a warning, search terms normalised", async () => {
    const { context, page, sent, warnings } = await open("/product?variant=blue&session=abc&utm_source=nl");
    assert.equal(new URL(sent[0].events[0].url).search, "?variant=blue&utm_source=nl", "queryAllowlist adds variant");
    await page.evaluate(() =>
      window.sightline.trackEvent("search", { term: "  Trail MUG ", password: "hunter2", who: "jane@example.com", nested: { a: 1 }, results: 3 }),
    );
    const event = (await eventually(() => sent.flatMap((b) => b.events).find((e) => e.name === "search"), 10000, "search")).props;
    assert.deepEqual(event, { term: "trail mug", results: 3 });
    for (const key of ["password", "who", "nested"]) {
      assert.ok(warnings.some((w) => w.includes(`prop \`${key}\``)), `${key}: ${warnings.join("\n")}`);
    }
    await page.evaluate(() => window.sightline.trackEvent("purchase", { value: 10 }));
    await eventually(() => warnings.some((w) => w.includes("purchase needs `order_id`")), 5000, "the purchase warning");
    await context.close();
  });

  test("beforeSend can drop events: the shop's QA browsers are not counted", async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_UA });
    await context.addInitScript(() => localStorage.setItem("demo_qa", "1"));
    const page = await context.newPage();
    const sent = [];
    page.on("request", (r) => r.url() === `${BASE}/api/collect` && sent.push(r.postData()));
    await page.goto(`${BASE}/product`);
    await page.click("#add-to-cart");
    await page.waitForTimeout(2500);
    assert.deepEqual(sent, []);
    await context.close();
  });
});
