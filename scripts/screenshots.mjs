// The dashboard as a first-time user sees it, for docs/screenshots/: a shop with a month of
// generated traffic (people, staff, campaigns, orders, web vitals), a saved funnel, then the page
// at 1280 px and 375 px wide, light and dark, each taken once every panel has loaded.
// Run by scripts/screenshots.sh against the worker it serves (SIGHTLINE_BASE, an admin token).
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { generate } from "../tests/traffic/generate.mjs";
import { ROOT, DESKTOP_UA, createSite, launch, replay, settled, siteApi, storedEvents, v2query, BASE } from "../tests/e2e/helpers.mjs";

const SITE = { id: "demo-shop", host: "shop.example", timezone: "Europe/Berlin" };
const READ = "shop-read-token";
const OUT = resolve(ROOT, "docs/screenshots");

await createSite(SITE.id, [SITE.host], { timezone: SITE.timezone, read_token: READ });
const g = generate({ sites: [SITE], now: Date.now(), days: 60, visitorsPerDay: 30, staffPerDay: 2, seed: 2026 });
console.log(`sending ${g.requests.length} requests (${g.counts.stored} events to store)`);
await replay(g.requests);
await storedEvents(SITE.id, g.counts.stored, 300_000);
await settled(() => v2query({ site_id: SITE.id, metrics: ["visits"], date_range: "30d" }, READ).then((r) => r.body));
const funnel = await siteApi("POST", SITE.id, "funnels", {
  token: process.env.SIGHTLINE_ADMIN_TOKEN,
  body: { name: "Product to purchase", steps: [{ page: "/product/*" }, { event: "cart_add" }, { page: "/checkout" }, { event: "purchase" }] },
});
if (funnel.status !== 201) throw new Error(`the funnel was refused: ${JSON.stringify(funnel.body)}`);

mkdirSync(OUT, { recursive: true });
const browser = await launch();
for (const [name, width] of [["desktop", 1280], ["mobile", 375]]) {
  for (const scheme of ["light", "dark"]) {
    const ctx = await browser.newContext({ viewport: { width, height: width > 600 ? 900 : 812 }, colorScheme: scheme, userAgent: DESKTOP_UA, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    await page.goto(`${BASE}/dashboard/?period=30d&compare=previous_period&funnel=${funnel.body.id}#site=${SITE.id}&token=${READ}`);
    // Every panel loaded: no loading state left, the graph drawn.
    await page.waitForSelector(".chart canvas");
    await page.waitForFunction(() => !document.querySelector('.state.loading, [aria-busy="true"]'), null, { timeout: 60_000 });
    const file = resolve(OUT, `dashboard-${name}-${scheme}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`wrote ${file}`);
    await ctx.close();
  }
}
await browser.close();
