// A deterministic synthetic traffic log and its exact expected rollups.
//
// `generate()` makes 14 days of traffic for several sites in different time zones: visitors with SDK
// ids and strict-mode visitors (no ids: the collector tells them apart by anonymised address and user
// agent), SPA visits of several pageviews, custom events, conversions (some orders reported twice),
// web vitals, non-interactive events, and bots. It returns the HTTP requests to replay (beacons as
// the SDK batches them, delivered partly out of order, some sent twice) and, computed here from the
// event list alone, the rollup every site-day must hold. The expectations follow the semantics in
// docs/PROTOCOL.md, written independently of the worker's Rust: visits split at 30 idle minutes,
// visits and visitors counted on the day (and hour) a visit started, events on their own, local days
// in each site's time zone (via Intl), enrichment from hand-labelled user agents and referrers.

const IDLE_MS = 30 * 60 * 1000;
const DAY_MS = 86400000;
const NON_INTERACTIVE = new Set(["web_vital", "engagement", "js_error", "404"]);
const CONVERSIONS = new Set(["purchase", "checkout_completed", "booking_completed", "signup_completed", "login_completed"]);

/** Human user agents with the classification a demanding reader expects of them. */
export const AGENTS = [
  { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", browser: "Chrome", os: "Windows", device: "desktop", weight: 5 },
  { ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", browser: "Safari", os: "iOS", device: "mobile", weight: 4 },
  { ua: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", browser: "Firefox", os: "Linux", device: "desktop", weight: 1 },
  { ua: "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", browser: "Samsung Internet", os: "Android", device: "mobile", weight: 2 },
  { ua: "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", browser: "Safari", os: "iPadOS", device: "tablet", weight: 1 },
  { ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", browser: "Safari", os: "macOS", device: "desktop", weight: 2 },
  { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", browser: "Edge", os: "Windows", device: "desktop", weight: 1 },
];

/** Crawlers and scripts: every event they send must be dropped. */
export const BOTS = [
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  "curl/8.5.0",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
];

/** How visits arrive, with the source, channel, referrer host and campaign they must be counted under. */
export const ARRIVALS = [
  { weight: 5, query: "", referrer: null, source: "", channel: "Direct", referrerHost: "", campaign: "" },
  { weight: 4, query: "", referrer: "https://www.google.com/", source: "Google", channel: "Organic Search", referrerHost: "www.google.com", campaign: "" },
  { weight: 2, query: "", referrer: "https://www.facebook.com/", source: "Facebook", channel: "Organic Social", referrerHost: "www.facebook.com", campaign: "" },
  { weight: 2, query: "?utm_source=newsletter&utm_medium=email&utm_campaign=winter", referrer: null, source: "newsletter", channel: "Email", referrerHost: "", campaign: "winter" },
  { weight: 1, query: "?gclid=cj0kcqia", referrer: "https://www.google.com/", source: "Google", channel: "Paid Search", referrerHost: "www.google.com", campaign: "" },
  { weight: 1, query: "", referrer: "https://blog.example.org/post/12", source: "blog.example.org", channel: "Referral", referrerHost: "blog.example.org", campaign: "" },
  { weight: 1, query: "?utm_source=partner&utm_medium=affiliate", referrer: null, source: "partner", channel: "Affiliates", referrerHost: "", campaign: "" },
  { weight: 1, query: "", referrer: "https://duckduckgo.com/", source: "DuckDuckGo", channel: "Organic Search", referrerHost: "duckduckgo.com", campaign: "" },
];

const PAGES = ["/", "/shop", "/product/red-shoe", "/product/blue-hat", "/product/green-bag", "/cart", "/checkout", "/about", "/blog/launch", "/app/#/dashboard"];
const VITALS = ["LCP", "INP", "CLS", "FCP", "TTFB"];

/** mulberry32: a small deterministic PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = (list) => list[Math.floor(next() * list.length)];
  const weighted = (list) => {
    const total = list.reduce((n, x) => n + x.weight, 0);
    let r = next() * total;
    for (const x of list) if ((r -= x.weight) < 0) return x;
    return list[list.length - 1];
  };
  return { next, int, pick, weighted };
}

/** The local date (YYYY-MM-DD), its day number, and the hour of `ts` in `timeZone`. */
const formats = new Map();
export function localTime(ts, timeZone) {
  if (!formats.has(timeZone)) {
    const options = { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", hourCycle: "h23" };
    formats.set(timeZone, new Intl.DateTimeFormat("en-CA", options));
  }
  const parts = Object.fromEntries(formats.get(timeZone).formatToParts(new Date(ts)).map((p) => [p.type, p.value]));
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return { date, day: Date.UTC(+parts.year, +parts.month - 1, +parts.day) / DAY_MS, hour: +parts.hour };
}

/** Histogram bucket of a web vital, as docs/PROTOCOL.md defines the buckets. */
export function vitalBucket(metric, value) {
  const v = Math.max(0, metric === "CLS" ? value * 1000 : value);
  if (v < 1000) return Math.floor(v / 10);
  if (v < 5000) return 100 + Math.floor((v - 1000) / 50);
  if (v < 20000) return 180 + Math.floor((v - 5000) / 250);
  return 240;
}

/**
 * The synthetic log for `sites` ([{ id, timezone, host }]) over the `days` days before `now`.
 * Returns { requests, events, expected, counts }.
 */
export function generate({ sites, now, days = 14, seed = 20261124, visitorsPerDay = 80, staffPerDay = 0 }) {
  const r = prng(seed);
  const events = []; // every event made, bots included: { site, ua, ip, visitor_id, session_id, event }
  const beacons = []; // { site, ua, ip, body, first }
  let eventNo = 0;
  const id = (prefix) => `${prefix}${(eventNo++).toString(36)}x${seed.toString(36)}`;
  // The last day ends a few hours before `now`, so no event lies in the future.
  const start = now - days * DAY_MS - 8 * 3600 * 1000;

  for (const site of sites) {
    const pool = Array.from({ length: visitorsPerDay * 3 }, (_, n) => ({
      n,
      agent: r.weighted(AGENTS),
      strict: r.next() < 0.2,
      visitorId: `v${site.id.length}${n}s${seed}`,
      ip: `10.${(n >> 8) & 255}.${n & 255}.${r.int(1, 254)}`,
    }));
    for (let d = 0; d < days; d++) {
      const active = new Set();
      while (active.size < visitorsPerDay) active.add(r.pick(pool));
      for (const visitor of active) {
        const visits = r.next() < 0.3 ? 2 : 1;
        // Visits of one day start between 00:00 and 22:00 UTC, the second 40–120 min after the first ends.
        let t = start + d * DAY_MS + r.int(0, 22 * 3600) * 1000;
        for (let v = 0; v < visits; v++) {
          const sessionId = `s${visitor.n}d${d}v${v}x${site.id.length}`;
          const arrival = r.weighted(ARRIVALS);
          const visitEvents = [];
          const push = (name, path, props, extra = {}) => {
            t += r.int(1, 90) * 1000;
            visitEvents.push({ id: id("g"), ts: t, name, url: `https://${site.host}${path}`, ...(props ? { props } : {}), ...extra });
          };
          const pageviews = r.next() < 0.35 ? 1 : r.int(2, 6);
          for (let p = 0; p < pageviews; p++) {
            const path = p === 0 ? r.pick(PAGES) : r.pick(PAGES.slice(1));
            const first = p === 0;
            // The landing page carries the campaign tags (before a hash route's fragment).
            const [base, hash] = path.split("#");
            const landing = `${base}${arrival.query}${hash === undefined ? "" : `#${hash}`}`;
            push("pageview", first ? landing : path, null, first && arrival.referrer ? { referrer: arrival.referrer } : {});
            const roll = r.next();
            if (roll < 0.15) push("cart_add", path, { product: path.split("/").pop() || "home", qty: r.int(1, 3) });
            else if (roll < 0.22) push("search", path, { term: r.pick(["shoes", "hats", "bags"]) });
            else if (roll < 0.27) push("ai.usage", path, { tokens: r.int(100, 5000), model: "small" });
            if (r.next() < 0.3) {
              const metric = r.pick(VITALS);
              const value = metric === "CLS" ? r.int(0, 40) / 100 : r.int(30, 6000);
              push("web_vital", path, { metric, value });
            }
          }
          if (pageviews === 1 && r.next() < 0.3) push("engagement", visitEvents[0].url.replace(`https://${site.host}`, "").split("?")[0], { seconds: r.int(1, 40) });
          if (r.next() < 0.12) {
            const order = `ord-${site.id}-${d}-${visitor.n}-${v}`;
            const currency = r.pick(["EUR", "USD"]);
            const value = r.int(500, 25000) / 100;
            push("purchase", "/thank-you", { order_id: order, value, currency, items: r.int(1, 4) });
            if (r.next() < 0.3) {
              // The same order reported again (a reload of the thank-you page): same time, new event id.
              const again = visitEvents[visitEvents.length - 1];
              visitEvents.push({ ...again, id: id("g") });
            }
          }
          // The SDK's batching: a pageview goes out at once, other events ride with the next flush.
          let current = null;
          for (const e of visitEvents) {
            if (!current || e.name === "pageview" || current.length >= 5) {
              current = [];
              beacons.push({ site: site.id, ua: visitor.agent.ua, ip: visitor.ip, visitor, sessionId, events: current });
            }
            current.push(e);
            events.push({ site: site.id, timezone: site.timezone, visitor, sessionId, arrival, event: e });
          }
          t += r.int(40, 120) * 60 * 1000;
        }
      }
      // Staff (with `staffPerDay`): the shop's own people on its admin pages, marked `is_internal` as
      // the SDK marks a staff surface, some placing a test order.
      for (let k = 0; k < staffPerDay; k++) {
        const n = 100000 + k;
        const visitor = { n, agent: AGENTS[0], strict: false, staff: true, visitorId: `staff${k}s${seed}${site.id.length}`, ip: `10.200.0.${k + 1}` };
        const sessionId = `staff${k}d${d}x${site.id.length}`;
        const arrival = ARRIVALS[0];
        let t = start + d * DAY_MS + r.int(1, 20 * 3600) * 1000;
        const visitEvents = [];
        for (const [name, path, props] of [
          ["pageview", "/admin/orders", null],
          ["pageview", r.pick(["/admin/products", "/checkout"]), null],
          ...(r.next() < 0.5 ? [["purchase", "/thank-you", { order_id: `test-${site.id}-${d}-${k}`, value: 1, currency: "EUR" }]] : []),
        ]) {
          t += r.int(5, 60) * 1000;
          visitEvents.push({ id: id("st"), ts: t, name, url: `https://${site.host}${path}`, props: { ...(props ?? {}), is_internal: true } });
        }
        beacons.push({ site: site.id, ua: visitor.agent.ua, ip: visitor.ip, visitor, sessionId, events: visitEvents });
        for (const e of visitEvents) events.push({ site: site.id, timezone: site.timezone, visitor, sessionId, arrival, event: e });
      }
      // Bots crawl a few pages a day.
      for (let b = 0; b < 15; b++) {
        const ua = r.pick(BOTS);
        const ts = start + d * DAY_MS + r.int(0, 23 * 3600) * 1000;
        const e = { id: id("b"), ts, name: "pageview", url: `https://${site.host}${r.pick(PAGES)}` };
        beacons.push({ site: site.id, ua, ip: `192.0.2.${r.int(1, 254)}`, bot: true, events: [e] });
        events.push({ site: site.id, bot: true, event: e });
      }
    }
  }

  // Delivery: in time order, with runs of up to 12 beacons shuffled, and 6 % of beacons sent again later.
  beacons.sort((a, b) => a.events[0].ts - b.events[0].ts);
  for (let i = 0; i < beacons.length; i += 12) {
    const run = beacons.slice(i, i + 12);
    for (let j = run.length - 1; j > 0; j--) {
      const k = r.int(0, j);
      [run[j], run[k]] = [run[k], run[j]];
    }
    beacons.splice(i, run.length, ...run);
  }
  const later = new Map(); // position -> beacons sent again there
  beacons.forEach((b, i) => {
    if (r.next() < 0.06) {
      const at = i + r.int(1, 60);
      later.set(at, [...(later.get(at) ?? []), b]);
    }
  });
  const delivery = [];
  for (let i = 0; i < beacons.length + 61; i++) delivery.push(...(later.get(i) ?? []), ...(i < beacons.length ? [beacons[i]] : []));
  const requests = delivery.map((b) => ({
    site: b.site,
    headers: { "User-Agent": b.ua, "CF-Connecting-IP": b.ip },
    body: {
      v: 1,
      site: b.site,
      ...(b.visitor && !b.visitor.strict ? { visitor_id: b.visitor.visitorId, session_id: b.sessionId } : {}),
      events: b.events,
    },
  }));
  const { rollups, stored, kept } = expect(events, sites);
  const bots = events.filter((e) => e.bot).length;
  return { requests, expected: rollups, log: kept, counts: { events: events.length, bots, stored, requests: requests.length } };
}

const tally = (map, value) => (map[value] ??= { u: 0, n: 0, a: 0 });

/** Who the collector takes an event's sender for: the SDK's ids, or (strict mode) address and agent. */
export function keysOf(x) {
  const v = x.visitor;
  const visitorKey = v.strict ? `strict ${v.ip.split(".").slice(0, 3).join(".")} ${v.agent.ua}` : v.visitorId;
  return { visitorKey, sessionKey: v.strict ? "" : x.sessionId };
}

/** The path the collector stores for a URL: no query, a hash route (`#/…`) kept. */
export function pathOf(url) {
  const u = new URL(url);
  return u.pathname + (u.hash.startsWith("#/") ? u.hash : "");
}

/**
 * The rollups every (site, day) must hold — { [site]: { [dayNumber]: Day } }, as core's JSON names
 * them — and how many events must be stored.
 */
function expect(events, sites) {
  const zone = Object.fromEntries(sites.map((s) => [s.id, s.timezone]));
  const out = Object.fromEntries(sites.map((s) => [s.id, {}]));
  const dayOf = (site, day) => (out[site][day] ??= { pageviews: 0, visitors: 0, visits: 0, bounces: 0, duration_ms: 0, hours: {}, dims: {}, vitals: {} });
  const hourOf = (day, h) => (day.hours[h] ??= { pageviews: 0, visits: 0, visitors: 0 });
  const dim = (day, name) => (day.dims[name] ??= {});

  // Bots are dropped; an order reported twice counts once.
  const orders = new Set();
  const kept = events
    .filter((x) => !x.bot)
    .filter((x) => {
      const order = CONVERSIONS.has(x.event.name) && x.event.props?.order_id;
      if (!order) return true;
      const key = `${x.site} ${x.event.name} ${order}`;
      return orders.has(key) ? false : orders.add(key);
    });

  // Per event, on its own local day and hour.
  for (const { site, event: e } of kept) {
    const at = localTime(e.ts, zone[site]);
    const day = dayOf(site, at.day);
    const path = new URL(e.url).pathname + (new URL(e.url).hash.startsWith("#/") ? new URL(e.url).hash : "");
    if (e.name === "pageview") {
      day.pageviews++;
      hourOf(day, at.hour).pageviews++;
      tally(dim(day, "pages"), path).n++;
      continue;
    }
    const value = typeof e.props?.value === "number" ? e.props.value : typeof e.props?.tokens === "number" ? e.props.tokens : 0;
    const t = tally(dim(day, "events"), e.name);
    t.n++;
    t.a += value;
    if (CONVERSIONS.has(e.name)) tally(dim(day, "goals"), e.name).n++;
    if (CONVERSIONS.has(e.name) && typeof e.props?.value === "number" && e.props.currency) {
      const rev = tally(dim(day, "revenue"), e.props.currency);
      rev.n++;
      rev.a += e.props.value;
    }
    if (e.name === "web_vital") {
      const h = (day.vitals[e.props.metric] ??= {});
      const b = vitalBucket(e.props.metric, e.props.value);
      h[b] = (h[b] ?? 0) + 1;
    }
  }

  // Visits: one session's events in time order, split at 30 idle minutes.
  const bySession = new Map();
  for (const x of kept) {
    const { visitorKey, sessionKey } = keysOf(x);
    const key = `${x.site}\u0000${visitorKey}\u0000${sessionKey}`;
    if (!bySession.has(key)) bySession.set(key, { site: x.site, visitorKey, list: [] });
    bySession.get(key).list.push(x);
  }
  const visitsByVisitor = new Map();
  for (const { site, visitorKey, list } of bySession.values()) {
    list.sort((a, b) => a.event.ts - b.event.ts || (a.event.id < b.event.id ? -1 : 1));
    let visit = null;
    for (const x of list) {
      if (!visit || x.event.ts > visit.last + IDLE_MS) {
        visit = { site, first: x, start: x.event.ts, last: x.event.ts, pageviews: [], paths: new Set(), interactive: 0, names: new Set(), currencies: new Set() };
        const k = `${site}\u0000${visitorKey}`;
        if (!visitsByVisitor.has(k)) visitsByVisitor.set(k, []);
        visitsByVisitor.get(k).push(visit);
      }
      visit.last = x.event.ts;
      const e = x.event;
      const u = new URL(e.url);
      const path = u.pathname + (u.hash.startsWith("#/") ? u.hash : "");
      // A page counts its visitors by any event on it (a purchase sent without a pageview too).
      visit.paths.add(path);
      if (e.name === "pageview") {
        visit.pageviews.push({ ts: e.ts, path });
      } else {
        if (!NON_INTERACTIVE.has(e.name)) visit.interactive++;
        visit.names.add(e.name);
        if (CONVERSIONS.has(e.name) && typeof e.props?.value === "number" && e.props.currency) visit.currencies.add(e.props.currency);
      }
    }
  }
  for (const visits of visitsByVisitor.values()) {
    const seen = new Map(); // day -> { first start, hour, values: Set }
    for (const v of visits) {
      const site = v.site;
      const at = localTime(v.start, zone[site]);
      const day = dayOf(site, at.day);
      const bounced = v.pageviews.length < 2 && v.interactive === 0;
      day.visits++;
      day.bounces += bounced ? 1 : 0;
      day.duration_ms += v.last - v.start;
      hourOf(day, at.hour).visits++;
      const a = v.first.arrival;
      const agent = v.first.visitor.agent;
      const byTime = [...v.pageviews].sort((p, q) => p.ts - q.ts || (p.path < q.path ? -1 : 1));
      const values = [
        ["sources", a.source], ["channels", a.channel], ["referrers", a.referrerHost], ["utm", a.campaign],
        ["countries", "US"], ["devices", agent.device], ["browsers", agent.browser], ["os", agent.os],
        ...(byTime.length ? [["entry-pages", byTime[0].path], ["exit-pages", byTime[byTime.length - 1].path]] : []),
      ];
      for (const [d, value] of values) tally(dim(day, d), value).n++;
      const mine = seen.get(at.day) ?? { start: Infinity, hour: 0, values: new Set() };
      seen.set(at.day, mine);
      if (v.start < mine.start) Object.assign(mine, { start: v.start, hour: at.hour });
      for (const [d, value] of values) mine.values.add(`${d}\u0000${value}`);
      for (const p of v.paths) mine.values.add(`pages\u0000${p}`);
      for (const n of v.names) {
        mine.values.add(`events\u0000${n}`);
        if (CONVERSIONS.has(n)) mine.values.add(`goals\u0000${n}`);
      }
      for (const c of v.currencies) mine.values.add(`revenue\u0000${c}`);
    }
    for (const [dayNumber, mine] of seen) {
      const day = dayOf(visits[0].site, dayNumber);
      day.visitors++;
      hourOf(day, mine.hour).visitors++;
      for (const key of mine.values) {
        const [d, value] = key.split("\u0000");
        tally(dim(day, d), value).u++;
      }
    }
  }
  return { rollups: out, stored: kept.length, kept };
}
