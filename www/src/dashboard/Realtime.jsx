// Realtime: the visitors with an event in the last five minutes and the pages they are on,
// read again every ten seconds while the tab is visible.
import { useEffect, useState } from "preact/hooks";
import { useApi } from "./hooks.js";
import { realtimePagesQuery } from "./queries.js";
import { Status } from "./Status.jsx";

export const EVERY_MS = 10_000;

export function Realtime({ api, site, state, kind }) {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState === "visible") setTick((n) => n + 1);
    }, EVERY_MS);
    return () => clearInterval(t);
  }, []);
  const now = useApi(async () => {
    // The whole site, whatever the filters: who is on it now. A segment-locked share link reads
    // only the query API (its pages, within its segment), so it has no count.
    const pages = await api.query(realtimePagesQuery(site, { ...state, filters: [] }, Date.now()));
    const count = await api.get(`/api/sites/${encodeURIComponent(site)}/stats/realtime`).catch((e) => {
      if (kind === "share" && e.status === 403) return null;
      throw e;
    });
    return { pages: pages.results, visitors: count?.visitors ?? null, at: new Date() };
  }, `${site}|${state.staff}|${tick}`);
  const d = now.data;
  return (
    <section class="panel realtime" id="panel-realtime" aria-labelledby="realtime-title">
      <h2 id="realtime-title">
        <span class="pulse" aria-hidden="true" /> Realtime
      </h2>
      <Status loading={now.loading} error={now.error}>
        {d ? (
          <>
            <p class="current">
              {d.visitors === null ? (
                "Pages viewed"
              ) : (
                <>
                  <strong data-visitors={String(d.visitors)}>{d.visitors}</strong> current visitor{d.visitors === 1 ? "" : "s"}
                </>
              )}{" "}
              <span class="muted">(whole site, last 5 minutes, updated {d.at.toLocaleTimeString("en-GB")})</span>
            </p>
            {d.pages.length ? (
              <ul class="live-pages">
                {d.pages.map((r) => (
                  <li key={r.dimensions[0]} data-value={r.dimensions[0]}>
                    <span>{r.dimensions[0]}</span> <span class="num">{r.metrics[0]}</span>
                  </li>
                ))}
              </ul>
            ) : (
              <p class="state empty">Nobody is on the site right now.</p>
            )}
          </>
        ) : null}
      </Status>
    </section>
  );
}
