// The page's state: what it shows lives in the URL's query (shareable; the back button walks it),
// and who it is signed in as lives in this tab's sessionStorage (never in the URL once read).

const SESSION_KEY = "sightline.dashboard";

/** The state a page without parameters shows. */
export const DEFAULTS = { period: "7d", compare: "", interval: "", metric: "visitors", staff: false, filters: [], prop: "", details: "", funnel: "" };

/** Reads the state from a query string. */
export function parse(search) {
  const q = new URLSearchParams(search);
  let filters = [];
  try {
    const f = JSON.parse(q.get("f") || "[]");
    if (Array.isArray(f)) filters = f.filter((x) => Array.isArray(x));
  } catch {
    filters = [];
  }
  return {
    site: q.get("site") || "",
    period: q.get("period") || DEFAULTS.period,
    compare: q.get("compare") || "",
    interval: q.get("interval") || "",
    metric: q.get("metric") || DEFAULTS.metric,
    staff: q.get("staff") === "1",
    filters,
    prop: q.get("prop") || "",
    details: q.get("details") || "",
    funnel: q.get("funnel") || "",
  };
}

/** Writes the state as a query string, leaving defaults out. */
export function serialize(state) {
  const q = new URLSearchParams();
  if (state.site) q.set("site", state.site);
  for (const key of ["period", "compare", "interval", "metric", "prop", "details", "funnel"]) {
    if (state[key] && state[key] !== DEFAULTS[key]) q.set(key, state[key]);
  }
  if (state.staff) q.set("staff", "1");
  if (state.filters.length) q.set("f", JSON.stringify(state.filters));
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The signed-in sites of this tab: `{ site: { token, kind } }` (kind: read, admin or share). */
export function sessions() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

/** Keeps a site's token in this tab. */
export function remember(site, token, kind) {
  const all = sessions();
  all[site] = { token, kind };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(all));
}

/** Forgets a site (sign out). */
export function forget(site) {
  const all = sessions();
  delete all[site];
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(all));
}

/**
 * Takes the credentials a link carries in its fragment — `#site=ID&token=READ` (the link
 * `npm start` prints) or `#site=ID&share=SECRET` (a share link) — into this tab, and removes them
 * from the address bar. Answers the site they opened, if any.
 */
export function adopt(location, history) {
  const hash = new URLSearchParams(location.hash.slice(1));
  const site = hash.get("site");
  const token = hash.get("token");
  const share = hash.get("share");
  if (!site || !(token || share)) return null;
  remember(site, token || share, share ? "share" : "read");
  const q = new URLSearchParams(location.search);
  q.set("site", site);
  history.replaceState(null, "", `${location.pathname}?${q}`);
  return site;
}
