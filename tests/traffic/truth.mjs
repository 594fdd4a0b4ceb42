// Ground truth for the query API (POST /api/v2/query), computed from the generator's event log
// alone — written apart from core's engine, from the definitions in docs/METRICS.md:
// - a visit is one session's events (staff and customers apart) with no gap over 30 minutes; it
//   and its visitor count on the local day it started, when any of its events matches the filters;
// - an event counts on its own local day when it matches;
// - a visitor is a (local day, visitor, audience) triple: keys are salted per day, so visitors over
//   many days are the sum of each day's unique visitors, and staff and customers are apart;
// - values are named as Plausible names them (Direct / None, Desktop, ...).
import { keysOf, localTime, pathOf } from "./generate.mjs";

const IDLE_MS = 30 * 60 * 1000;
const NON_INTERACTIVE = new Set(["web_vital", "engagement", "js_error", "404"]);
const MEASUREMENTS = new Set(["engagement", "web_vital"]);
const DEVICES = { desktop: "Desktop", mobile: "Mobile", tablet: "Tablet" };

/** The log as visits of events, for one site. */
export function visitsOf(log, site, timeZone) {
  const sessions = new Map();
  for (const x of log.filter((x) => x.site === site)) {
    const { visitorKey, sessionKey } = keysOf(x);
    const e = x.event;
    const internal = e.props?.is_internal === true;
    const hit = { ts: e.ts, id: e.id, name: e.name, path: pathOf(e.url), host: new URL(e.url).hostname, props: e.props ?? {}, internal, arrival: x.arrival };
    const key = `${visitorKey}\u0000${sessionKey}\u0000${internal}`;
    if (!sessions.has(key)) sessions.set(key, { visitorKey, internal, agent: x.visitor.agent, hits: [] });
    sessions.get(key).hits.push(hit);
  }
  const visits = [];
  for (const s of sessions.values()) {
    s.hits.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
    let v = null;
    for (const h of s.hits) {
      if (!v || h.ts - v.last > IDLE_MS) {
        // A visit arrives with its first event's source.
        v = { visitor: s.visitorKey, internal: s.internal, arrival: h.arrival, agent: s.agent, hits: [], start: h.ts, last: h.ts };
        visits.push(v);
      }
      v.last = h.ts;
      v.hits.push(h);
    }
  }
  for (const v of visits) {
    const pages = v.hits.filter((h) => h.name === "pageview").sort((a, b) => a.ts - b.ts || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    v.entry = pages[0]?.path;
    v.exit = pages[pages.length - 1]?.path;
    v.pageviews = pages.length;
    v.bounced = pages.length < 2 && !v.hits.some((h) => h.name !== "pageview" && !NON_INTERACTIVE.has(h.name));
    v.date = localTime(v.start, timeZone).date;
    for (const h of v.hits) h.date = localTime(h.ts, timeZone).date;
  }
  return visits;
}

/** A dimension's value for event `h` of visit `v` (undefined: none). */
export function valueOf(dim, h, v) {
  const a = v.arrival;
  if (dim.startsWith("event:props:")) {
    const p = h.props[dim.slice("event:props:".length)];
    return p === undefined ? "(none)" : String(p);
  }
  switch (dim) {
    case "event:page": return h.path;
    case "event:hostname": return h.host;
    case "event:name": return h.name;
    case "event:goal": return h.name !== "pageview" && !MEASUREMENTS.has(h.name) ? h.name : undefined;
    case "event:internal": return String(v.internal);
    case "visit:source": return a.source || "Direct / None";
    case "visit:referrer": return a.referrerHost || "Direct / None";
    case "visit:channel": return a.channel || "Direct";
    case "visit:utm_campaign": return a.campaign || undefined;
    case "visit:device": return DEVICES[v.agent.device];
    case "visit:browser": return v.agent.browser;
    case "visit:os": return v.agent.os;
    case "visit:country": return "US";
    case "visit:entry_page": return v.entry;
    case "visit:exit_page": return v.exit;
    default: throw new Error(`truth: no dimension ${dim}`);
  }
}

/** Does event `h` of visit `v` match filter `f` (Plausible's filter syntax, the subset the tests use)? */
function matches(f, h, v) {
  const [op, dim, clauses] = f;
  if (op === "and") return dim.every((g) => matches(g, h, v));
  if (op === "not") return !matches(dim, h, v);
  if (op === "has_done") return v.hits.some((x) => matches(dim, x, v));
  if (op === "has_not_done") return !v.hits.some((x) => matches(dim, x, v));
  if (dim === "event:goal") {
    const hit = clauses.some((c) => (c.startsWith("Visit ") ? h.name === "pageview" && h.path === c.slice(6) : valueOf(dim, h, v) === c));
    return op === "is" ? hit : !hit;
  }
  const value = valueOf(dim, h, v);
  const any = value !== undefined && clauses.some((c) => (op.startsWith("contains") ? value.includes(c) : value === c));
  return op.endsWith("_not") ? !any : any;
}

const round = (x, places) => Math.round(x * 10 ** places) / 10 ** places;

/** Groups of one range: key (JSON of the dimension values) → what metrics count. */
function groups(visits, { dims, filters, from, to, internal }) {
  const out = new Map();
  const within = (date) => date >= from && date <= to;
  const get = (k) => {
    if (!out.has(k)) out.set(k, { visitors: new Set(), visits: new Set(), bounces: 0, duration: 0, visitPageviews: 0, pageviews: 0, events: 0, revenue: {} });
    return out.get(k);
  };
  const key = (h, v, date) => {
    const values = dims.map((d) => (d === "time:day" ? date : valueOf(d, h, v)));
    return values.includes(undefined) ? undefined : JSON.stringify(values);
  };
  for (const v of visits) {
    if (v.internal && !internal) continue;
    for (const h of v.hits) {
      if (!filters.every((f) => matches(f, h, v))) continue;
      if (within(h.date)) {
        const k = key(h, v, h.date);
        if (k !== undefined) {
          const g = get(k);
          if (h.name === "pageview") g.pageviews++;
          if (!MEASUREMENTS.has(h.name)) g.events++;
          if (h.name === "purchase" && typeof h.props.value === "number" && h.props.currency) {
            const r = (g.revenue[h.props.currency] ??= [0, 0]);
            r[0]++;
            r[1] += h.props.value;
          }
        }
      }
      if (within(v.date)) {
        const k = key(h, v, v.date);
        if (k === undefined) continue;
        const g = get(k);
        if (g.visits.has(v)) continue;
        g.visits.add(v);
        g.visitors.add(`${v.date} ${v.visitor} ${v.internal}`);
        g.bounces += v.bounced ? 1 : 0;
        g.duration += v.last - v.start;
        g.visitPageviews += v.pageviews;
      }
    }
  }
  return out;
}

/**
 * The answer the query API must give: { [JSON of dimension values]: [metric values] }.
 * `q`: { metrics, dims, filters, from, to, internal }.
 */
export function answer(visits, q) {
  const g = groups(visits, q);
  const total = () => [...groups(visits, { ...q, dims: [] }).values()].reduce((n, x) => n + x.visitors.size, 0);
  const goalFree = q.filters.filter((f) => f[1] !== "event:goal");
  const converting = q.filters.length !== goalFree.length
    ? [...groups(visits, { ...q, dims: [], filters: goalFree }).values()].reduce((n, x) => n + x.visitors.size, 0)
    : null;
  const out = {};
  const keys = q.dims.length === 0 ? ["[]"] : [...g.keys()];
  for (const k of keys) {
    const x = g.get(k) ?? { visitors: new Set(), visits: new Set(), bounces: 0, duration: 0, visitPageviews: 0, pageviews: 0, events: 0, revenue: {} };
    const n = x.visits.size;
    out[k] = q.metrics.map((m) => {
      switch (m) {
        case "visitors": return x.visitors.size;
        case "visits": return n;
        case "pageviews": return x.pageviews;
        case "events": return x.events;
        case "bounce_rate": return n ? Math.round((x.bounces * 100) / n) : 0;
        case "visit_duration": return n ? Math.round(x.duration / 1000 / n) : 0;
        case "views_per_visit": return n ? round(x.visitPageviews / n, 2) : 0;
        case "percentage": { const t = total(); return t ? round((x.visitors.size * 100) / t, 1) : 0; }
        case "conversion_rate": { const t = converting ?? total(); return t ? round((x.visitors.size * 100) / t, 2) : 0; }
        default: throw new Error(`truth: no metric ${m}`);
      }
    });
  }
  return out;
}

/** Visitors per step of a funnel within a visit (steps: { page } exact paths or { event } names). */
export function funnel(visits, steps, { from, to }) {
  const reached = steps.map(() => new Set());
  for (const v of visits) {
    if (v.internal || v.date < from || v.date > to) continue;
    let k = 0;
    for (const h of v.hits) {
      const s = steps[k];
      if (s && (s.page ? h.name === "pageview" && h.path === s.page : h.name === s.event)) k++;
    }
    for (let i = 0; i < k; i++) reached[i].add(`${v.date} ${v.visitor}`);
  }
  return reached.map((s) => s.size);
}
