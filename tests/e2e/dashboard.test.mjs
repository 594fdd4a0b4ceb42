// The dashboard (/dashboard/) in Chromium against the real worker: generated traffic for a site
// of its own, then the page driven as a person would — sign in, change the range, compare, filter
// by clicking, the back button, the details view (search, sort, pages, CSV export), the filter
// editor and a saved segment, a funnel, web vitals, realtime, staff traffic, share links opened
// without a token and revoked — and every number the page shows is checked against the query
// API's answer for the same state (the page's own query builders, www/src/dashboard/queries.js,
// make the bodies from the URL's state). axe-core checks each view: no serious or critical
// violation, light and dark.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { generate } from "../traffic/generate.mjs";
import * as Q from "../../www/src/dashboard/queries.js";
import { parse } from "../../www/src/dashboard/state.js";
import * as F from "../../www/src/dashboard/format.js";
import { ADMIN_TOKEN, BASE, DESKTOP_UA, ROOT, beacon, collect, createSite, event, eventually, launch, replay, settled, siteApi, storedEvents, uid, v2query } from "./helpers.mjs";

const run = uid("").slice(-6);
const SITE = { id: `dash-${run}`, timezone: "America/New_York", host: `dash-${run}.example` };
const READ = `read-${uid("")}`;
const AXE = readFileSync(resolve(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");

let browser;
let today;

/** The API's answer to a body, or a failed assertion. */
async function api(body, token = READ) {
  const got = await v2query(body, token);
  assert.equal(got.status, 200, `the API answered ${got.status}: ${JSON.stringify(body)} → ${JSON.stringify(got.body)}`);
  return got.body;
}

/** The page's state, read from its address as the page reads it. */
const stateOf = (page) => parse(new URL(page.url()).search);

/** What the top stats show: metric → [value, change]; null while a stat has no value yet. */
async function shownStats(page) {
  const stats = await page.$$eval(".stat", (els) =>
    els.map((e) => [e.dataset.metric, e.querySelector(".value")?.dataset.value, e.querySelector(".change")?.dataset.change, e.querySelector(".value")?.textContent]),
  );
  if (stats.some(([, v]) => v === undefined)) return null;
  // What a person reads is the value as format.js writes it.
  for (const [name, v, , text] of stats) assert.equal(text, F.metric(name, JSON.parse(v)), `the ${name} stat reads its value`);
  return Object.fromEntries(stats.map(([name, v, c]) => [name, [JSON.parse(v), c === undefined ? null : JSON.parse(c)]]));
}

/** The top stats the API answers for the page's state. */
async function expectedStats(page, token = READ) {
  const state = stateOf(page);
  const body = Q.topStatsQuery(state.site || SITE.id, state, today);
  const row = (await api(body, token)).results[0];
  return Object.fromEntries(body.metrics.map((m, i) => [m, [row.metrics[i], row.comparison ? row.comparison.change[i] : null]]));
}

/** A probe for `eventually`: false (tried again) when the API or the page is not there yet. */
const probe = (fn) => async () => {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof assert.AssertionError && !/API answered/.test(e.message)) throw e;
    return false;
  }
};

/** Waits until the top stats show what the API answers for the page's state. */
async function statsMatch(page, token = READ) {
  let expected;
  await eventually(probe(async () => {
    expected = await expectedStats(page, token);
    return JSON.stringify(await shownStats(page)) === JSON.stringify(expected);
  }), 20000, "the top stats to equal the API's");
  return expected;
}

/** The rows a breakdown table shows: value → metrics. */
function shownRows(page, scope) {
  return page.$$eval(`${scope} table.rows tbody tr`, (trs) => trs.map((tr) => [tr.dataset.value, JSON.parse(tr.dataset.metrics)]));
}

/** Waits until a panel's rows equal the API's for its tab and the page's state. */
async function panelMatches(page, panelId, tabId, options = {}, scope = `#panel-${panelId}`) {
  let want;
  await eventually(probe(async () => {
    const body = Q.breakdownQuery(SITE.id, stateOf(page), today, Q.TABS[tabId], options);
    want = (await api(body)).results.map((r) => [r.dimensions[0], r.metrics]);
    const got = await shownRows(page, scope);
    return want.length > 0 && JSON.stringify(got) === JSON.stringify(want);
  }), 20000, `the ${tabId} rows to equal the API's`);
  return want;
}

/** axe-core on the page as it is: no serious or critical violation. */
async function accessible(page, what) {
  await page.addScriptTag({ content: AXE });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`),
    [],
    `axe found serious or critical violations (${what})`,
  );
}

async function open(path, { token = READ, width = 1280, scheme = "light", context } = {}) {
  const ctx = context ?? (await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme, userAgent: DESKTOP_UA, acceptDownloads: true }));
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const hash = token ? `#site=${SITE.id}&token=${token}` : "";
  await page.goto(`${BASE}/dashboard/${path}${hash}`);
  page.errors = errors;
  return page;
}

/** A link opened in a browser context of its own (no token in its storage). */
async function openLink(url) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, userAgent: DESKTOP_UA });
  const page = await ctx.newPage();
  await page.goto(url);
  return page;
}

describe("dashboard", () => {
  before(async () => {
    await createSite(SITE.id, [SITE.host, "localhost"], { timezone: SITE.timezone, read_token: READ });
    const g = generate({ sites: [SITE], now: Date.now(), days: 9, visitorsPerDay: 18, staffPerDay: 2, seed: 6161 });
    await replay(g.requests);
    await storedEvents(SITE.id, g.counts.stored, 120_000);
    await settled(() => api({ site_id: SITE.id, metrics: ["visits", "pageviews"], date_range: "30d", include: { internal: true } }));
    today = (await api({ site_id: SITE.id, metrics: ["visitors"], date_range: "day" })).query.date_range[0].slice(0, 10);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });

  test("signing in shows the top stats the API answers, and takes the token out of the address", async () => {
    const page = await open("");
    await page.waitForSelector(".stat .value");
    assert.ok(!page.url().includes(READ), "the token is not in the address bar");
    assert.equal(stateOf(page).site, SITE.id);
    const shown = await statsMatch(page);
    assert.ok(shown.visitors[0] > 0, "the site has visitors in the last 7 days");
    // Reloading keeps the sign-in (this tab's sessionStorage), without the token in the URL.
    await page.reload();
    await statsMatch(page);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test("a wrong token says so, and asks again", async () => {
    const page = await open("", { token: "wrong-token-123" });
    await page.waitForSelector("#sign-in-error");
    assert.match(await page.textContent("#sign-in-error"), /token/i);
    await accessible(page, "sign-in");
    await page.context().close();
  });

  test("ranges by key and menu, the comparison, and the graph equal the API's", async () => {
    const page = await open("");
    await statsMatch(page);
    await page.keyboard.press("t"); // Last 30 days
    await eventually(() => stateOf(page).period === "30d", 5000, "the range to change");
    await statsMatch(page);
    await page.selectOption('select[aria-label="Compare"]', "previous_period");
    const stats = await statsMatch(page);
    assert.ok(Object.values(stats).every(([, c]) => c !== null), "every top stat has a change");
    // The graph: each bucket's value and its comparison, as the API answers them.
    await page.click('.stat[data-metric="pageviews"]');
    await eventually(() => stateOf(page).metric === "pageviews", 5000, "the graph's metric");
    const body = Q.graphQuery(SITE.id, stateOf(page), today);
    const answer = await api(body);
    const labels = answer.meta.time_labels;
    const rows = new Map(answer.results.map((r) => [r.dimensions[0], r]));
    await eventually(async () => {
      const shown = await page.$$eval("table.graph-data tbody tr", (trs) => trs.map((tr) => [tr.dataset.label, tr.dataset.value, tr.dataset.was]));
      if (shown.length !== labels.length) return false;
      return shown.every(([label, value, was], i) => {
        const row = rows.get(labels[i]);
        if (label !== labels[i] || Number(value) !== (row ? row.metrics[0] : 0)) return false;
        return !row || Number(was) === row.comparison.metrics[0];
      });
    }, 20000, "the graph's buckets to equal the API's");
    // Views per visit, refused by time bucket, is drawn from each bucket's pageviews ÷ visits.
    await page.click('.stat[data-metric="views_per_visit"]');
    const byDay = await api({ site_id: SITE.id, metrics: ["pageviews", "visits"], date_range: "30d", dimensions: ["time:day"] });
    const ratio = new Map(byDay.results.map((r) => [r.dimensions[0], Math.round((r.metrics[0] / r.metrics[1]) * 100) / 100]));
    await eventually(async () => {
      const shown = await page.$$eval("table.graph-data tbody tr", (trs) => trs.map((tr) => [tr.dataset.label, tr.dataset.value]));
      return shown.length === labels.length && shown.every(([label, v]) => (ratio.has(label) ? Number(v) === ratio.get(label) : v === "null"));
    }, 20000, "views per visit by day");
    assert.equal(await page.$(".graph .state.error"), null);
    // A day range is drawn by hour, the hour in progress marked, none after it drawn.
    await page.keyboard.press("d");
    const hoursToday = (await api(Q.graphQuery(SITE.id, { ...stateOf(page), period: "day" }, today))).meta.time_labels.length;
    assert.ok(hoursToday >= 23 && hoursToday <= 25, `a day has ${hoursToday} hours`);
    await eventually(async () => (await page.$$("table.graph-data tbody tr[data-label]")).length === hoursToday && (await page.$eval("table.graph-data tbody tr", (tr) => tr.dataset.label.length > 10)), 20000, "hourly buckets");
    const hours = await page.$$eval("table.graph-data tbody tr", (trs) => trs.map((tr) => [tr.dataset.current, tr.dataset.value]));
    const current = hours.findIndex(([c]) => c === "1");
    assert.ok(current >= 0, "today's hour in progress is marked");
    assert.ok(hours.slice(current + 1).every(([, v]) => v === "null"), "hours still to come are not drawn");
    assert.ok(await page.isVisible(".chart canvas"), "uPlot drew the graph");
    await accessible(page, "board with comparison");
    await page.context().close();
  });

  test("clicking a row filters the page; chips, the back button and the URL follow", async () => {
    const page = await open("?period=30d");
    await panelMatches(page, "sources", "channels");
    const first = await page.$eval("#panel-sources table.rows tbody tr", (tr) => tr.dataset.value);
    await page.click(`#panel-sources tr[data-value="${first}"] .filter-by`);
    await eventually(() => JSON.stringify(stateOf(page).filters) === JSON.stringify([["is", "visit:channel", [first]]]), 5000, "the filter in the URL");
    assert.match(await page.textContent(".chip"), new RegExp(`Channel is ${first}`));
    await statsMatch(page);
    await panelMatches(page, "pages", "pages");
    // Another panel's tab, and its rows under the filter.
    await page.click('#panel-devices [data-tab="browsers"]');
    await panelMatches(page, "devices", "browsers");
    // Back: the filter is gone, from the URL and the numbers.
    await page.goBack();
    await eventually(() => stateOf(page).filters.length === 0, 5000, "the filter to be gone");
    await page.waitForSelector(".chip", { state: "detached" });
    await statsMatch(page);
    // Forward again, then the chip's remove button.
    await page.goForward();
    await page.waitForSelector(".chip");
    await page.click(".chip button");
    await eventually(() => stateOf(page).filters.length === 0, 5000, "the chip removed");
    await statsMatch(page);
    await page.context().close();
  });

  test("goals, event properties and revenue per currency, as the API answers them", async () => {
    const page = await open("?period=30d");
    await panelMatches(page, "goals", "goals");
    await page.click('#panel-goals [data-tab="props"]');
    const props = await panelMatches(page, "goals", "props");
    assert.ok(props.some(([v]) => v === "red-shoe"), "the product property's values");
    await page.click('#panel-goals [data-tab="revenue"]');
    const revenue = await panelMatches(page, "goals", "revenue");
    assert.ok(revenue.length >= 1 && revenue.every(([, m]) => m[0].currency), "revenue is never added up across currencies");
    // A click on a goal filters by it: conversions and the conversion rate join the top stats.
    await page.click('#panel-goals [data-tab="goals"]');
    await page.click('#panel-goals tr[data-value="purchase"] .filter-by');
    await eventually(async () => (await page.$('.stat[data-metric="conversion_rate"]')) !== null, 10000, "the conversion rate");
    await statsMatch(page);
    await page.context().close();
  });

  test("a tab signed in to two sites switches between them", async () => {
    const page = await open("?period=30d");
    await statsMatch(page);
    // A second site's link pasted into the same tab.
    await page.evaluate(() => {
      location.hash = "#site=demo&token=dev-demo-token";
    });
    await eventually(() => stateOf(page).site === "demo", 10000, "the demo site opened");
    assert.ok(!page.url().includes("dev-demo-token"));
    await statsMatch(page, "dev-demo-token");
    const sites = await page.$$eval('select[aria-label="Site"] option', (os) => os.map((o) => o.value));
    assert.ok(sites.includes("demo") && sites.includes(SITE.id), `the switcher lists both: ${sites}`);
    await page.selectOption('select[aria-label="Site"]', SITE.id);
    await eventually(() => stateOf(page).site === SITE.id, 10000, "back on the first site");
    await statsMatch(page);
    await page.context().close();
  });

  test("the details view searches, sorts, pages and exports what the API answers", async () => {
    const page = await open("?period=30d&details=pages");
    await page.waitForSelector("dialog.details-view[open]");
    await panelMatches(page, "pages", "pages", { limit: 100 }, "dialog.details-view");
    await page.fill('dialog input[type="search"]', "PRODUCT");
    const found = await panelMatches(page, "pages", "pages", { limit: 100, search: "PRODUCT" }, "dialog.details-view");
    assert.ok(found.length >= 2 && found.every(([v]) => v.includes("/product/")), "search is case-insensitive and narrows the rows");
    // Sort by pageviews (descending), then ascending.
    await page.click('dialog th button.sort:has-text("Pageviews")');
    await panelMatches(page, "pages", "pages", { limit: 100, search: "PRODUCT", order: ["pageviews", "desc"] }, "dialog.details-view");
    await page.click('dialog th button.sort:has-text("Pageviews")');
    const asc = await panelMatches(page, "pages", "pages", { limit: 100, search: "PRODUCT", order: ["pageviews", "asc"] }, "dialog.details-view");
    // The search and order are in the URL: a reload (or the link, shared) shows the same rows.
    assert.equal(stateOf(page).q, "PRODUCT");
    assert.equal(stateOf(page).sort, "pageviews.asc");
    await page.reload();
    await page.waitForSelector("dialog.details-view[open]");
    assert.equal(await page.inputValue('dialog input[type="search"]'), "PRODUCT");
    await panelMatches(page, "pages", "pages", { limit: 100, search: "PRODUCT", order: ["pageviews", "asc"] }, "dialog.details-view");
    // CSV export: the same rows, a header first.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("dialog button.export")]);
    const text = readFileSync(await download.path(), "utf8");
    const lines = text.trim().split("\r\n");
    assert.equal(lines[0], "event:page,visitors,pageviews");
    assert.deepEqual(lines.slice(1), asc.map(([v, m]) => [v, ...m].join(",")));
    await accessible(page, "details view");
    await page.keyboard.press("Escape");
    await eventually(() => stateOf(page).details === "" && stateOf(page).q === "", 5000, "the details view closed");
    await page.context().close();
  });

  test("the filter editor, and a saved segment applied from the menu (admin token)", async () => {
    const page = await open("?period=30d", { token: ADMIN_TOKEN });
    await statsMatch(page, ADMIN_TOKEN);
    await page.click(".add-filter");
    await page.selectOption('.filter-editor select >> nth=0', "visit:device");
    await page.selectOption('.filter-editor select >> nth=1', "is_not");
    await page.fill(".filter-editor input", "Desktop");
    await page.click('.filter-editor button[type="submit"]');
    await eventually(() => JSON.stringify(stateOf(page).filters) === JSON.stringify([["is_not", "visit:device", ["Desktop"]]]), 5000, "the edited filter");
    const filtered = await statsMatch(page);
    await page.click(".save-as-segment");
    const name = `Not desktop ${run}`;
    await page.fill(".save-segment input", name);
    await page.click('.save-segment button[type="submit"]');
    await eventually(() => stateOf(page).filters[0]?.[1] === "segment", 10000, "the segment applied");
    const id = stateOf(page).filters[0][2][0];
    const stored = await siteApi("GET", SITE.id, `segments/${id}`, { token: READ });
    assert.equal(stored.status, 200);
    assert.deepEqual(stored.body.filters, [["is_not", "visit:device", ["Desktop"]]]);
    assert.match(await page.textContent(".chip"), new RegExp(`Segment ${name}`));
    assert.deepEqual(await statsMatch(page), filtered, "the segment counts what its filters counted");
    await page.context().close();
    // A reader sees it in the menu and applies it, but cannot save one.
    const reader = await open("?period=30d");
    await reader.waitForSelector(".segments select");
    await reader.selectOption(".segments select", String(id));
    await eventually(() => JSON.stringify(stateOf(reader).filters) === JSON.stringify([["is", "segment", [id]]]), 5000, "the segment from the menu");
    await statsMatch(reader);
    await reader.click(".chip button");
    await reader.click('#panel-sources tr[data-value] .filter-by');
    await reader.waitForSelector(".save-as-segment");
    assert.ok(await reader.isDisabled(".save-as-segment"), "a read token cannot save a segment");
    await reader.context().close();
  });

  test("a funnel is defined, listed and shown with its drop-off as the API answers", async () => {
    const page = await open("?period=30d", { token: ADMIN_TOKEN });
    await page.waitForSelector(".add-funnel:not([disabled])");
    await page.click(".add-funnel");
    await page.fill(".new-funnel input", `Shop ${run}`);
    await page.fill(".new-funnel textarea", "page /shop\npage /product/*\nevent cart_add");
    await page.click('.new-funnel button[type="submit"]');
    await eventually(() => stateOf(page).funnel !== "", 10000, "the new funnel chosen");
    const id = Number(stateOf(page).funnel);
    const want = (await api(Q.funnelQuery(SITE.id, stateOf(page), today, id))).meta.funnel.steps;
    assert.equal(want.length, 3);
    await eventually(async () => {
      const shown = await page.$$eval(".funnel-steps li", (lis) => lis.map((li) => [Number(li.dataset.visitors), Number(li.dataset.dropoff)]));
      return JSON.stringify(shown) === JSON.stringify(want.map((s) => [s.visitors, s.dropoff]));
    }, 20000, "the funnel's steps to equal the API's");
    assert.ok(want[0].visitors > 0, "the funnel has visitors at its first step");
    await page.context().close();
  });

  test("web vitals p75, for the site and per page, as the API answers, coloured by Google's thresholds", async () => {
    const page = await open("?period=30d");
    const whole = (await api(Q.vitalsQuery(SITE.id, stateOf(page), today, false))).results[0].metrics;
    await eventually(async () => {
      const shown = await page.$$eval(".vital-tiles li", (lis) => lis.map((li) => JSON.parse(li.querySelector(".vital").dataset.value)));
      return JSON.stringify(shown) === JSON.stringify(whole.slice(0, 5));
    }, 20000, "the site's vitals");
    assert.equal(await page.$("#vitals-last-day"), null, "a small site's range is read whole");
    const classes = await page.$$eval(".vital-tiles .vital", (els) => els.map((e) => e.className.replace("vital ", "")));
    // Google's thresholds, written out here: good up to, poor above.
    const google = [[2500, 4000], [200, 500], [0.1, 0.25], [1800, 3000], [800, 1800]];
    const expected = google.map(([good, poor], i) => (whole[i] === null ? "none" : whole[i] <= good ? "good" : whole[i] <= poor ? "needs-improvement" : "poor"));
    assert.deepEqual(classes, expected);
    const perPage = (await api(Q.vitalsQuery(SITE.id, stateOf(page), today, true))).results.filter((r) => r.metrics.slice(0, 5).some((v) => v !== null));
    assert.deepEqual(await shownRows(page, "#panel-vitals"), perPage.map((r) => [r.dimensions[0], r.metrics]));
    await page.context().close();
  });

  test("realtime counts who is on the site now, and refreshes", async () => {
    const page = await open("");
    await page.waitForSelector("#panel-realtime .current");
    const before = Number(await page.$eval("#panel-realtime [data-visitors]", (e) => e.dataset.visitors));
    const b = beacon(SITE.id, [event({ url: `http://${SITE.host}/live-now`, ts: Date.now() })]);
    const sent = await collect(b, { headers: { Origin: `http://${SITE.host}` } });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    await eventually(async () => {
      const live = (await siteApi("GET", SITE.id, "stats/realtime", { token: READ })).body;
      const shown = Number(await page.$eval("#panel-realtime [data-visitors]", (e) => e.dataset.visitors));
      const pages = await page.$$eval("#panel-realtime .live-pages li", (lis) => lis.map((li) => li.dataset.value));
      return live.visitors > before && shown === live.visitors && pages.includes("/live-now");
    }, 40000, "the new visitor in realtime");
    await page.context().close();
  });

  test("staff traffic is left out until the toggle lets it in", async () => {
    const page = await open("?period=30d");
    const without = await statsMatch(page);
    await page.check(".toggle input");
    await eventually(() => stateOf(page).staff, 5000, "staff in the URL");
    const withStaff = await statsMatch(page);
    assert.ok(withStaff.visits[0] > without.visits[0], "staff visits are counted when asked for");
    await page.context().close();
  });

  test("share links open the dashboard without a token, locked to a segment, until revoked", async () => {
    // A segment to lock one link to.
    const seg = await siteApi("POST", SITE.id, "segments", { token: ADMIN_TOKEN, body: { name: `Google ${run}`, filters: [["is", "visit:source", ["Google"]]] } });
    assert.equal(seg.status, 201, JSON.stringify(seg.body));
    const page = await open("?period=30d", { token: ADMIN_TOKEN });
    await statsMatch(page, ADMIN_TOKEN);
    const links = [];
    for (const [name, segment] of [[`Everyone ${run}`, ""], [`Locked ${run}`, String(seg.body.id)]]) {
      await page.click("button.share");
      await page.waitForSelector("dialog.shares-view[open]");
      await page.fill(".new-share input", name);
      await page.selectOption(".new-share select", segment);
      await page.click('.new-share button[type="submit"]');
      await page.waitForSelector(".share-url");
      links.push(await page.inputValue(".share-url"));
      await accessible(page, "share dialog");
      await page.keyboard.press("Escape");
      await page.waitForSelector("dialog.shares-view", { state: "detached" });
    }
    assert.ok(links.every((l) => l.startsWith(`${BASE}/dashboard/#site=${SITE.id}&share=`)));
    const secret = (l) => new URL(l).hash.split("share=")[1];
    // Opened in a new browser context: no token in it, only the link.
    const shared = await openLink(links[0]);
    await shared.waitForSelector(".stat .value");
    assert.ok(!shared.url().includes("share="), "the secret leaves the address bar");
    await statsMatch(shared, secret(links[0]));
    assert.equal(await shared.$("button.share"), null, "a share link cannot make links");
    // The locked link counts only its segment's traffic, whatever its holder asks.
    const locked = await openLink(links[1]);
    await locked.waitForSelector(".stat .value");
    const lockedStats = await eventually(() => shownStats(locked), 20000, "the locked link's stats");
    const segmentOnly = (await api({ ...Q.topStatsQuery(SITE.id, stateOf(locked), today), filters: [["is", "segment", [seg.body.id]]] })).results[0].metrics;
    assert.deepEqual(Object.values(lockedStats).map(([v]) => v), segmentOnly);
    const everyone = (await api(Q.topStatsQuery(SITE.id, stateOf(locked), today))).results[0].metrics;
    assert.ok(segmentOnly[0] < everyone[0], "the locked link counts fewer visitors than the site has");
    // Revoked from the dashboard: the link opens nothing any more.
    await page.click("button.share");
    await page.waitForSelector(`.share-list li:has-text("Everyone ${run}") .revoke`);
    await page.click(`.share-list li:has-text("Everyone ${run}") .revoke`);
    await page.waitForSelector(`.share-list li:has-text("Everyone ${run}")`, { state: "detached" });
    await shared.reload();
    await shared.waitForSelector("#sign-in-error");
    for (const p of [page, shared, locked]) await p.context().close();
  });

  test("dark and 375 px wide: readable, nothing wider than the screen, no serious axe violation", async () => {
    for (const scheme of ["light", "dark"]) {
      const page = await open("?period=30d", { width: 375, scheme });
      await statsMatch(page);
      await panelMatches(page, "pages", "pages");
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 375, `the page is ${width} px wide at 375 px (${scheme})`);
      await accessible(page, `375 px, ${scheme}`);
      await page.context().close();
    }
  });
});
