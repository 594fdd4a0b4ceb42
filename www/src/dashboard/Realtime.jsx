// Realtime: the visitors with an event in the last five minutes and the pages they are on, read
// again ten seconds after each answer (never two reads at once) while the tab is visible.
import { useEffect, useState } from "preact/hooks";
import { realtimePagesQuery } from "./queries.js";
import { Status } from "./Status.jsx";

export const EVERY_MS = 10_000;

/**
 * The whole site, whatever the filters and staff included: who is on it now (the v1 realtime
 * report: visits with an event in the last five minutes, staff's too) and the pages viewed. A segment-locked share link reads
 * only the query API (its pages, within its segment), so it has no count.
 */
async function read(api, site, state, kind) {
  const pages = await api.query(realtimePagesQuery(site, { ...state, filters: [], staff: true }, Date.now()));
  const count = await api.get(`/api/sites/${encodeURIComponent(site)}/stats/realtime`).catch((e) => {
    if (kind === "share" && e.status === 403) return null;
    throw e;
  });
  return { pages: pages.results, visitors: count?.visitors ?? null, at: new Date() };
}

export function Realtime({ api, site, state, kind, ready }) {
  const [now, setNow] = useState({ data: null, error: null, site: null });
  useEffect(() => {
    if (!ready) return undefined;
    let live = true;
    let timer = 0;
    async function tick() {
      if (document.visibilityState === "visible") {
        try {
          const data = await read(api, site, state, kind);
          if (live) setNow({ data, error: null, site });
        } catch (error) {
          if (live) setNow({ data: null, error, site });
        }
      }
      if (live) timer = setTimeout(tick, EVERY_MS);
    }
    tick();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, site, kind, ready]);
  const d = now.site === site ? now.data : null;
  return (
    <section class="panel realtime" id="panel-realtime" aria-labelledby="realtime-title">
      <h2 id="realtime-title">
        <span class="pulse" aria-hidden="true" /> Realtime
      </h2>
      <Status loading={!d && !now.error} error={now.site === site ? now.error : null}>
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
              <span class="muted">(everyone on the site, staff too, last 5 minutes, updated {d.at.toLocaleTimeString("en-GB")})</span>
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
