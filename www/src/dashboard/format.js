// How numbers read on the page: one function a metric.

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat("en");

/** A duration in seconds as "1m 05s". */
export function duration(s) {
  if (s === null || s === undefined) return "–";
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  if (h) return `${h}h ${m % 60}m`;
  return m ? `${m}m ${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.round(s)}s`;
}

/** A metric's value as the page shows it (`full`: no compact notation, as tables and exports). */
export function metric(name, v, full = false) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "object") return money(v, full);
  switch (name) {
    case "bounce_rate":
    case "conversion_rate":
    case "percentage":
    case "group_conversion_rate":
    case "scroll_depth":
      return `${v}%`;
    case "visit_duration":
    case "time_on_page":
      return duration(v);
    case "views_per_visit":
      return String(v);
    case "cls_p75":
      return v.toFixed(3);
    case "lcp_p75":
    case "inp_p75":
    case "fcp_p75":
    case "ttfb_p75":
      return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v} ms`;
    default:
      return full || v < 10000 ? whole.format(v) : compact.format(v);
  }
}

/** Revenue as the API answers it: one currency, or several never added up. */
export function money(v, full = false) {
  if (v.currency) return full ? v.long : v.short;
  if (v.by_currency) {
    return Object.entries(v.by_currency)
      .map(([c, x]) => `${c} ${x}`)
      .join(" · ");
  }
  return "–";
}

/** A comparison's change: points for rates, percent for the rest (the API's rule). */
export function change(name, c) {
  if (c === null || c === undefined) return "";
  const points = ["bounce_rate", "conversion_rate", "percentage", "group_conversion_rate"].includes(name);
  const sign = c > 0 ? "+" : c < 0 ? "−" : "±";
  return `${sign}${Math.abs(c)}${points ? " pt" : "%"}`;
}

/** Whether a rise of this metric is good news (bounce rate: no). */
export function upIsGood(name) {
  return name !== "bounce_rate";
}

/** Readable names of metrics. */
export const LABELS = {
  visitors: "Unique visitors",
  visits: "Total visits",
  pageviews: "Total pageviews",
  views_per_visit: "Views per visit",
  bounce_rate: "Bounce rate",
  visit_duration: "Visit duration",
  events: "Conversions",
  conversion_rate: "Conversion rate",
  percentage: "%",
  total_revenue: "Revenue",
  average_revenue: "Average",
  lost_in_browser: "Lost in browsers",
};

/** Short column headings. */
export const COLUMNS = {
  visitors: "Visitors",
  visits: "Visits",
  pageviews: "Pageviews",
  events: "Events",
  conversion_rate: "CR",
  percentage: "%",
  total_revenue: "Revenue",
  average_revenue: "Average",
};

/** A country code by its name (the browser's own list of names). */
const regions = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "region" }) : null;
export function country(code) {
  if (!/^[A-Z]{2}$/.test(code)) return code;
  try {
    return regions?.of(code) ?? code;
  } catch {
    return code;
  }
}

export { whole };
