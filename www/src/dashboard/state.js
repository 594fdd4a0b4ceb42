// The page's state: what it shows lives in the URL's query (shareable; the back button walks it),
// and who it is signed in as lives in this tab's sessionStorage (never in the URL once read).

const SESSION_KEY = "sightline.dashboard";

/** The state a page without parameters shows. */
export const DEFAULTS = {
  period: "7d",
  compare: "",
  interval: "",
  metric: "visitors",
  staff: false,
  filters: [],
  prop: "",
  tabs: {},
  details: "",
  q: "",
  sort: "",
  page: 0,
  funnel: "",
};

/** The text parameters, as they are. */
const TEXT = ["period", "compare", "interval", "metric", "prop", "details", "q", "sort", "funnel"];

/**
 * A filter as the page can show it: `[op, dimension, [values]]` (with a modifier object), or a
 * segment's `["is", "segment", [ids]]`; anything else in a hand-made link is left out.
 */
export function wellFormed(f) {
  if (!Array.isArray(f) || typeof f[0] !== "string" || typeof f[1] !== "string" || !Array.isArray(f[2]) || !f[2].length) return false;
  if (f[1] === "segment") return f[0] === "is" && f[2].every((id) => Number.isSafeInteger(id) && id > 0);
  return f[2].every((v) => typeof v === "string") && (f.length === 3 || (f.length === 4 && typeof f[3] === "object" && f[3] !== null));
}

/** Reads the state from a query string. */
export function parse(search) {
  const q = new URLSearchParams(search);
  let filters = [];
  try {
    const f = JSON.parse(q.get("f") || "[]");
    if (Array.isArray(f)) filters = f.filter(wellFormed);
  } catch {
    filters = [];
  }
  const state = { ...DEFAULTS, site: q.get("site") || "", staff: q.get("staff") === "1", filters };
  for (const key of TEXT) state[key] = q.get(key) || DEFAULTS[key];
  // The breakdown tab of each panel: `sources.referrers,devices.os`.
  state.tabs = Object.fromEntries(
    (q.get("tabs") || "")
      .split(",")
      .map((t) => t.split("."))
      .filter((t) => t.length === 2 && t[0] && t[1]),
  );
  const page = Number(q.get("page"));
  state.page = Number.isSafeInteger(page) && page > 0 ? page : 0;
  return state;
}

/** Writes the state as a query string, leaving defaults out. */
export function serialize(state) {
  const q = new URLSearchParams();
  if (state.site) q.set("site", state.site);
  for (const key of TEXT) {
    if (state[key] && state[key] !== DEFAULTS[key]) q.set(key, state[key]);
  }
  if (state.staff) q.set("staff", "1");
  if (state.filters.length) q.set("f", JSON.stringify(state.filters));
  const tabs = Object.entries(state.tabs || {}).map(([p, t]) => `${p}.${t}`);
  if (tabs.length) q.set("tabs", tabs.join(","));
  if (state.page) q.set("page", String(state.page));
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

/** Signs out of a site, and of every other site its token opened (the admin token opens all). */
export function forget(site) {
  const all = sessions();
  const token = all[site]?.token;
  for (const [s, v] of Object.entries(all)) if (s === site || v.token === token) delete all[s];
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
