// The dashboard's shell: who is signed in (this tab's tokens), which site, the range and comparison,
// the staff toggle and the panels. All that the page shows follows from the URL, so a link shares
// it and the back button walks it.
import { useEffect, useMemo, useState } from "preact/hooks";
import { client } from "./api.js";
import { parse, serialize, sessions, remember, forget, adopt } from "./state.js";
import { PERIODS, PANELS, TABS } from "./queries.js";
import { useApi } from "./hooks.js";
import { TopStats } from "./TopStats.jsx";
import { Graph } from "./Graph.jsx";
import { Breakdown } from "./Breakdown.jsx";
import { Details } from "./Details.jsx";
import { FilterBar } from "./FilterBar.jsx";
import { Vitals } from "./Vitals.jsx";
import { Funnels } from "./Funnels.jsx";
import { Realtime } from "./Realtime.jsx";
import { Shares } from "./Shares.jsx";

function SignIn({ error, site: wanted }) {
  const [site, setSite] = useState(wanted || "");
  const [token, setToken] = useState("");
  return (
    <main class="sign-in">
      <h1>Sightline</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          remember(site.trim(), token.trim(), "read");
          // The link's range and filters are kept: only the site is the one signed in to.
          const q = new URLSearchParams(location.search);
          q.set("site", site.trim());
          location.assign(`${location.pathname}?${q}`);
        }}
      >
        <p>Sign in with a site's read token (or the admin token). It stays in this tab only.</p>
        <label>
          Site <input name="site" value={site} required autoComplete="off" onInput={(e) => setSite(e.currentTarget.value)} />
        </label>
        <label>
          Token <input name="token" type="password" value={token} required autoComplete="off" onInput={(e) => setToken(e.currentTarget.value)} />
        </label>
        <button type="submit">Open the dashboard</button>
        {error && (
          <p class="error" role="alert" id="sign-in-error">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

/** Keyboard shortcuts: a letter a range (as Plausible's), X the comparison. */
function useShortcuts(state, navigate) {
  useEffect(() => {
    function onKey(e) {
      if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
      const t = e.target;
      // Not while typing (a checkbox or button with focus still takes the keys).
      const typing = t instanceof HTMLInputElement ? !["checkbox", "radio", "button", "submit", "reset"].includes(t.type) : t instanceof HTMLElement && (t.isContentEditable || ["SELECT", "TEXTAREA"].includes(t.tagName));
      if (typing) return;
      if (document.querySelector("dialog[open]")) return;
      const key = e.key.toLowerCase();
      const period = PERIODS.find((p) => p.key === key);
      if (period) navigate({ period: period.id, interval: "" });
      else if (key === "x") navigate({ compare: state.compare ? "" : "previous_period" });
      else return;
      e.preventDefault();
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [state, navigate]);
}

export function App() {
  const [adopted] = useState(() => adopt(location, history));
  const [state, setState] = useState(() => parse(location.search));
  const [sharing, setSharing] = useState(false);
  const [shown, setShown] = useState({});
  const [refresh, setRefresh] = useState(0);
  const signedIn = sessions();
  const site = state.site || adopted || Object.keys(signedIn)[0] || "";
  const session = signedIn[site];
  const api = useMemo(() => (session ? client(session.token) : null), [session?.token]);

  function navigate(patch, replace = false) {
    const next = { ...state, site, ...patch };
    const url = `${location.pathname}${serialize(next)}`;
    if (replace) history.replaceState(null, "", url);
    else history.pushState(null, "", url);
    setState(next);
  }
  useEffect(() => {
    const onPop = () => setState(parse(location.search));
    // A sign-in or share link pasted into this tab: take its credentials, open its site.
    const onHash = () => adopt(location, history) && setState(parse(location.search));
    addEventListener("popstate", onPop);
    addEventListener("hashchange", onHash);
    return () => {
      removeEventListener("popstate", onPop);
      removeEventListener("hashchange", onHash);
    };
  }, []);
  useShortcuts(state, navigate);

  // Today in the site's zone (the API says, in its answer's range), and a check of the token.
  const probe = useApi(
    () => (api ? api.query({ site_id: site, metrics: ["visitors"], date_range: "day" }) : Promise.reject(new Error("not signed in"))),
    api ? `${site}|${session.token}` : null,
  );
  // The admin token opens every site: the switcher lists them.
  const adminSites = useApi(() => api.get("/api/admin/sites").then((b) => b.sites.map((s) => s.id)), api && probe.data ? `${site}|admin` : null);
  const kind = adminSites.data ? "admin" : session?.kind ?? "read";
  const [saved, setSaved] = useState(0);
  const segmentsList = useApi(() => api.get(`/api/sites/${encodeURIComponent(site)}/segments`), probe.data ? `${site}|seg|${saved}` : null);
  const funnelsList = useApi(() => api.get(`/api/sites/${encodeURIComponent(site)}/funnels`), probe.data ? `${site}|fun|${saved}` : null);

  if (!session) return <SignIn site={site} />;
  if (probe.error) {
    if (probe.error.status === 401 || probe.error.status === 404) {
      return <SignIn site={site} error={`The token does not open site "${site}": ${probe.error.message}`} />;
    }
    // Not the token's fault (offline, overloaded): say so, and try again on request.
    return (
      <main class="sign-in">
        <p class="error" role="alert" id="load-error">
          Could not reach the collector: {probe.error.message}
        </p>
        <button type="button" onClick={() => location.reload()}>
          Try again
        </button>
      </main>
    );
  }
  // Only "yesterday" needs today's date before asking: the rest asks at once, beside the probe.
  if (!probe.data && state.period === "yesterday") {
    return (
      <main class="state loading" aria-busy="true">
        Loading…
      </main>
    );
  }
  const today = probe.data ? probe.data.query.date_range[0].slice(0, 10) : null;
  // The top stats and the graph are asked first; the panels below once both have answered (and
  // the probe has): a worker answers a dozen queries at once no faster than in turn, so the first
  // screen would wait for all of them.
  const ready = !!probe.data && shown.top === site && shown.graph === site;
  const onShown = (part) => setShown((s) => (s[part] === site ? s : { ...s, [part]: site }));
  const sites = [...new Set([...Object.keys(signedIn), ...(adminSites.data ?? [])])].sort();
  const segments = segmentsList.data?.segments ?? [];
  const funnels = funnelsList.data?.funnels ?? [];
  const common = { api, site, state, today, navigate, refresh, ready };
  const detailsTab = state.details && TABS[state.details];
  const custom = state.period.startsWith("custom:") ? state.period.slice(7).split(",") : null;

  return (
    <>
      <header class="top">
        <strong class="brand">Sightline</strong>
        <label>
          <span class="visually-hidden">Site</span>
          <select
            value={site}
            aria-label="Site"
            onChange={(e) => {
              const next = e.currentTarget.value;
              if (adminSites.data && !signedIn[next]) remember(next, session.token, "admin");
              navigate({ site: next, filters: [], funnel: "", details: "" });
            }}
          >
            {sites.map((s) => (
              <option value={s} key={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span class="visually-hidden">Range</span>
          <select
            aria-label="Range"
            value={custom ? "custom" : state.period}
            onChange={(e) => {
              const v = e.currentTarget.value;
              const day = today ?? new Date().toISOString().slice(0, 10);
              navigate({ period: v === "custom" ? `custom:${day},${day}` : v, interval: "" });
            }}
          >
            {PERIODS.map((p) => (
              <option value={p.id} key={p.id}>
                {p.label} ({p.key.toUpperCase()})
              </option>
            ))}
            <option value="custom">Custom range</option>
          </select>
        </label>
        {custom && (
          <span class="custom-range">
            <input type="date" aria-label="From" value={custom[0]} max={today ?? undefined} onChange={(e) => navigate({ period: `custom:${e.currentTarget.value},${custom[1]}` })} />
            <input type="date" aria-label="To" value={custom[1]} max={today ?? undefined} onChange={(e) => navigate({ period: `custom:${custom[0]},${e.currentTarget.value}` })} />
          </span>
        )}
        <label>
          <span class="visually-hidden">Compare</span>
          <select aria-label="Compare" value={state.compare} onChange={(e) => navigate({ compare: e.currentTarget.value })}>
            <option value="">No comparison (X)</option>
            <option value="previous_period">Previous period</option>
            <option value="year_over_year">Year over year</option>
          </select>
        </label>
        <label class="toggle">
          <input type="checkbox" checked={state.staff} onChange={(e) => navigate({ staff: e.currentTarget.checked })} /> Staff traffic
        </label>
        <span class="spacer" />
        <button type="button" onClick={() => setRefresh((n) => n + 1)} aria-label="Reload the numbers">
          ↻
        </button>
        {kind !== "share" && (
          <button type="button" class="share" onClick={() => setSharing(true)}>
            Share
          </button>
        )}
        <button
          type="button"
          class="sign-out"
          onClick={() => {
            forget(site);
            location.assign(location.pathname);
          }}
        >
          Sign out
        </button>
      </header>
      <FilterBar
        state={state}
        navigate={navigate}
        segments={segments}
        canSave={kind === "admin"}
        onSaveSegment={async (name, filters) => {
          const seg = await api.post(`/api/sites/${encodeURIComponent(site)}/segments`, { name, filters });
          setSaved((n) => n + 1);
          navigate({ filters: [["is", "segment", [seg.id]]] });
        }}
      />
      <main class="board">
        <TopStats {...common} onShown={onShown} />
        <Graph {...common} onShown={onShown} />
        <div class="grid">
          <Realtime api={api} site={site} state={state} kind={kind} ready={ready} />
          {PANELS.map((p) => (
            <Breakdown key={p.id} {...common} panel={p} tab={state.tabs[p.id]} onTab={(t) => navigate({ tabs: { ...state.tabs, [p.id]: t } }, true)} />
          ))}
          <Funnels {...common} funnels={funnels} canSave={kind === "admin"} onSaved={async () => setSaved((n) => n + 1)} />
        </div>
        <Vitals {...common} />
        <footer class="keys">
          Keys: {PERIODS.map((p) => (
            <span key={p.id}>
              <kbd>{p.key.toUpperCase()}</kbd> {p.label}
            </span>
          ))}
          <span>
            <kbd>X</kbd> compare
          </span>
        </footer>
      </main>
      {detailsTab && <Details {...common} tab={detailsTab} key={state.details} />}
      {sharing && <Shares api={api} site={site} segments={segments} canManage={kind === "admin"} onClose={() => setSharing(false)} />}
    </>
  );
}
