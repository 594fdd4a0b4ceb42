// The dashboard's queries, as data: every panel's Stats API v2 body is made here from the page's
// state, and nowhere else. Pure (no DOM, no fetch), so the end-to-end tests import this module and
// send the very bodies the page sends, to check that every number shown is the API's.

/** Ranges the page offers, with their keyboard shortcut (Plausible's keys) and label. */
export const PERIODS = [
  { id: "day", key: "d", label: "Today" },
  { id: "yesterday", key: "e", label: "Yesterday" },
  { id: "7d", key: "w", label: "Last 7 days" },
  { id: "28d", key: "f", label: "Last 28 days" },
  { id: "30d", key: "t", label: "Last 30 days" },
  { id: "91d", key: "n", label: "Last 91 days" },
  { id: "month", key: "m", label: "Month to date" },
  { id: "6mo", key: "s", label: "Last 6 months" },
  { id: "12mo", key: "l", label: "Last 12 months" },
  { id: "year", key: "y", label: "Year to date" },
  { id: "all", key: "a", label: "All time" },
];

/** The intervals a range may be drawn in, the first its default. */
export function intervals(period) {
  if (period === "day" || period === "yesterday") return ["hour"];
  if (period === "7d") return ["day", "hour"];
  if (period === "28d" || period === "30d" || period === "month") return ["day", "week"];
  if (period === "91d") return ["week", "day", "month"];
  if (period === "all") return ["month", "week"];
  if (period.startsWith("custom:")) return ["day", "week", "month"];
  return ["month", "week", "day"];
}

/** Google's thresholds for the web vitals: good up to the first, poor above the second. */
export const VITALS = [
  { metric: "lcp_p75", label: "LCP", unit: "ms", good: 2500, poor: 4000 },
  { metric: "inp_p75", label: "INP", unit: "ms", good: 200, poor: 500 },
  { metric: "cls_p75", label: "CLS", unit: "", good: 0.1, poor: 0.25 },
  { metric: "fcp_p75", label: "FCP", unit: "ms", good: 1800, poor: 3000 },
  { metric: "ttfb_p75", label: "TTFB", unit: "ms", good: 800, poor: 1800 },
];

/** "good", "needs-improvement" or "poor" for a vital's p75 (null: no reading). */
export function rating(vital, value) {
  if (value === null || value === undefined) return null;
  if (value <= vital.good) return "good";
  return value <= vital.poor ? "needs-improvement" : "poor";
}

/** The conversions that carry revenue (core::commerce::CONVERSIONS). */
export const CONVERSIONS = ["purchase", "checkout_completed", "booking_completed", "signup_completed", "login_completed"];

/**
 * The breakdown panels: each a row of tabs, each tab one dimension and its columns. `metrics`
 * lists what the panel shows; the first orders the rows.
 */
export const PANELS = [
  {
    id: "sources",
    title: "Sources",
    tabs: [
      { id: "channels", label: "Channels", dimension: "visit:channel" },
      { id: "sources", label: "Sources", dimension: "visit:source" },
      { id: "referrers", label: "Referrers", dimension: "visit:referrer" },
      { id: "utm_source", label: "UTM source", dimension: "visit:utm_source" },
      { id: "utm_medium", label: "UTM medium", dimension: "visit:utm_medium" },
      { id: "utm_campaign", label: "Campaign", dimension: "visit:utm_campaign" },
    ],
  },
  {
    id: "pages",
    title: "Pages",
    tabs: [
      { id: "pages", label: "Top pages", dimension: "event:page", metrics: ["visitors", "pageviews"] },
      { id: "entry", label: "Entry pages", dimension: "visit:entry_page", metrics: ["visitors", "visits"] },
      { id: "exit", label: "Exit pages", dimension: "visit:exit_page", metrics: ["visitors", "visits"] },
    ],
  },
  {
    id: "locations",
    title: "Locations",
    tabs: [{ id: "countries", label: "Countries", dimension: "visit:country" }],
  },
  {
    id: "devices",
    title: "Devices",
    tabs: [
      { id: "devices", label: "Devices", dimension: "visit:device" },
      { id: "browsers", label: "Browsers", dimension: "visit:browser" },
      { id: "os", label: "OS", dimension: "visit:os" },
    ],
  },
  {
    id: "goals",
    title: "Goals",
    tabs: [
      { id: "goals", label: "Goals", dimension: "event:goal", metrics: ["visitors", "events", "conversion_rate"] },
      { id: "events", label: "Events", dimension: "event:name", metrics: ["visitors", "events"] },
      { id: "props", label: "Properties", dimension: "event:props:", metrics: ["visitors", "events", "percentage"] },
      { id: "revenue", label: "Revenue", dimension: "event:props:currency", metrics: ["total_revenue", "average_revenue", "events"], revenue: true },
    ],
  },
];

/** Every tab by id. */
export const TABS = Object.fromEntries(PANELS.flatMap((p) => p.tabs.map((t) => [t.id, t])));

/** The columns of a tab's rows (percentage is added for visitor breakdowns, as Plausible shows). */
export function tabMetrics(tab) {
  return tab.metrics ?? ["visitors", "percentage"];
}

/** The property key the properties tab shows until another is chosen. */
export const DEFAULT_PROP = "product";

/** The dimension a tab breaks down by (the properties tab by the chosen key). */
export function tabDimension(tab, state) {
  return tab.id === "props" ? `event:props:${state.prop || DEFAULT_PROP}` : tab.dimension;
}

/** A `date_range` for the page's period: a named range, or `custom:FROM,TO` as a pair of dates. */
export function dateRange(period, today) {
  if (period.startsWith("custom:")) return period.slice(7).split(",");
  if (period === "yesterday") {
    const d = new Date(`${today}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() - 1);
    const y = d.toISOString().slice(0, 10);
    return [y, y];
  }
  return period;
}

/** A query's `include`: staff traffic only when the page asks for it, and what the query adds. */
function include(state, extra = {}) {
  return { ...(state.staff ? { internal: true } : {}), ...extra };
}

/** The filters of the page, with what a query adds (a goal filter for revenue). */
function filtersOf(state, more = []) {
  return [...state.filters, ...more];
}

/** A comparison, or none. */
function comparisons(state) {
  return state.compare ? { comparisons: { mode: state.compare } } : {};
}

/** True when the filters name a page (Plausible refuses views per visit with one). */
function pageFiltered(filters) {
  return JSON.stringify(filters).includes('"event:page"');
}

/** True when the filters hold a goal (conversion rate is then a top stat). */
export function goalFiltered(filters) {
  return JSON.stringify(filters).includes('"event:goal"');
}

/** The top stats, in order: what each is called and how it is read. */
export function topMetrics(state) {
  const goal = goalFiltered(state.filters);
  const list = ["visitors", "visits", "pageviews"];
  if (!pageFiltered(state.filters)) list.push("views_per_visit");
  list.push("bounce_rate", "visit_duration");
  if (goal) list.push("events", "conversion_rate");
  return list;
}

/** The top stats' query, with the comparison when one is chosen. */
export function topStatsQuery(site, state, today) {
  return {
    site_id: site,
    metrics: topMetrics(state),
    date_range: dateRange(state.period, today),
    filters: filtersOf(state),
    include: include(state, comparisons(state)),
  };
}

/** The browsers' losses (`lost_in_browser` is answered only without filters and dimensions). */
export function lostQuery(site, state, today) {
  return { site_id: site, metrics: ["lost_in_browser"], date_range: dateRange(state.period, today), include: include(state) };
}

/**
 * The metric the graph draws: the chosen one when it is a top stat now (conversion rate needs a
 * goal filter), else visitors.
 */
export function graphMetric(state) {
  return topMetrics(state).includes(state.metric) ? state.metric : "visitors";
}

/**
 * The graph's query: its metric by time bucket, every bucket labelled, with the comparison.
 * Views per visit is refused with a dimension (Plausible's rule): its buckets ask for pageviews
 * and visits, divided here (`graphValue`).
 */
export function graphQuery(site, state, today) {
  const interval = intervals(state.period).includes(state.interval) ? state.interval : intervals(state.period)[0];
  const metric = graphMetric(state);
  return {
    site_id: site,
    metrics: metric === "views_per_visit" ? ["pageviews", "visits"] : [metric],
    date_range: dateRange(state.period, today),
    dimensions: [`time:${interval}`],
    filters: filtersOf(state),
    include: include(state, { time_labels: true, ...comparisons(state) }),
  };
}

/** A bucket's value of the graph's metric from its row's metrics (null: no visits to divide by). */
export function graphValue(metric, metrics) {
  if (metric !== "views_per_visit") return metrics[0];
  const [pageviews, visits] = metrics;
  return visits ? Math.round((pageviews / visits) * 100) / 100 : null;
}

/** The top stats' query without views per visit (a segment's or share's page filter refuses it). */
export function withoutViewsPerVisit(body) {
  return { ...body, metrics: body.metrics.filter((m) => m !== "views_per_visit") };
}

/**
 * A breakdown's query: `limit` rows from `offset`, ordered by `order` (a metric and direction,
 * else the first column's descending), rows whose value contains `search` when given.
 */
export function breakdownQuery(site, state, today, tab, { limit = 9, offset = 0, order = null, search = "" } = {}) {
  const dimension = tabDimension(tab, state);
  const more = [];
  if (tab.revenue) more.push(["is", "event:goal", CONVERSIONS]);
  if (search) more.push(["contains", dimension, [search], { case_sensitive: false }]);
  const metrics = tabMetrics(tab);
  return {
    site_id: site,
    metrics,
    date_range: dateRange(state.period, today),
    dimensions: [dimension],
    filters: filtersOf(state, more),
    order_by: order ? [order] : [[metrics[0], "desc"]],
    include: include(state, { total_rows: true }),
    pagination: { limit, offset },
  };
}

/**
 * Web vitals: p75 of each, for the whole site (no dimension) or per page. Their p75s are exact,
 * read from raw events, so a busy site's long range can hold more than one answer reads: then
 * `lastDay` asks for the last whole day only (the page says so).
 */
export function vitalsQuery(site, state, today, byPage, lastDay = false) {
  return {
    site_id: site,
    metrics: [...VITALS.map((v) => v.metric), "pageviews"],
    date_range: lastDay ? dateRange("yesterday", today) : dateRange(state.period, today),
    ...(byPage ? { dimensions: ["event:page"], order_by: [["pageviews", "desc"]], pagination: { limit: 20, offset: 0 } } : {}),
    filters: filtersOf(state),
    include: include(state),
  };
}

/** True for the API's refusal of a range holding more raw events than one answer reads. */
export function tooManyRawEvents(error) {
  return error?.status === 400 && error.code === "invalid_date_range" && /raw events/.test(error.message);
}

/** A saved funnel over the page's range and filters. */
export function funnelQuery(site, state, today, funnel) {
  return { site_id: site, metrics: ["visitors"], date_range: dateRange(state.period, today), filters: filtersOf(state), include: include(state), funnel };
}

/** The last five minutes' pages (`now` in ms): pageviews and visitors per page. */
export function realtimePagesQuery(site, state, now) {
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
  return {
    site_id: site,
    metrics: ["visitors", "pageviews"],
    date_range: [iso(now - 5 * 60 * 1000), iso(now)],
    dimensions: ["event:page"],
    filters: filtersOf(state),
    include: include(state),
    pagination: { limit: 10, offset: 0 },
  };
}
