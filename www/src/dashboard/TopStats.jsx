// The top stats: each metric of the range, its change against the comparison, and the button that
// draws it in the graph. Under them, what the answer could not count, and the delivery health
// line: events lost in visitors' browsers.
import { useEffect } from "preact/hooks";
import { useApi } from "./hooks.js";
import { topStatsQuery, lostQuery, withoutViewsPerVisit } from "./queries.js";
import { metric, change, upIsGood, LABELS } from "./format.js";
import { Status } from "./Status.jsx";

/**
 * The top stats' answer. A segment (or a share's lock) that filters on a page makes the API
 * refuse views per visit, which the page cannot see in its own filters: then it is asked without.
 */
async function read(api, body) {
  try {
    return await api.query(body);
  } catch (e) {
    if (e.status === 400 && e.code === "invalid_metrics" && /views_per_visit/.test(e.message)) return api.query(withoutViewsPerVisit(body));
    throw e;
  }
}

export function TopStats({ api, site, state, today, navigate, refresh, onShown }) {
  const body = topStatsQuery(site, state, today);
  const top = useApi(() => read(api, body), JSON.stringify(body) + refresh);
  const lostBody = lostQuery(site, state, today);
  const lost = useApi(() => api.query(lostBody), state.filters.length ? null : JSON.stringify(lostBody) + refresh);
  const row = top.data?.results?.[0];
  // The metrics as answered (the answer's own echo), so values never sit under other names.
  const names = top.data?.query?.metrics ?? [];
  const lostCount = !state.filters.length && lost.data?.results?.[0]?.metrics?.[0];
  // For bench:reports: when the numbers first show (a performance mark, read by the benchmark).
  useEffect(() => {
    if (row) performance.mark("sightline:top-stats");
    if (top.data || top.error) onShown?.("top");
  }, [top.data, top.error]);
  return (
    <section class="top-stats" aria-label="Top stats">
      <Status loading={top.loading} error={top.error}>
        {row && (
          <ul class="stats">
            {names.map((name, i) => {
              const c = row.comparison?.change?.[i];
              const good = c === undefined || c === null || c === 0 ? "" : (c > 0) === upIsGood(name) ? "good" : "bad";
              return (
                <li key={name}>
                  <button
                    type="button"
                    class={state.metric === name ? "stat selected" : "stat"}
                    aria-pressed={state.metric === name ? "true" : "false"}
                    data-metric={name}
                    onClick={() => navigate({ metric: name })}
                  >
                    <span class="label">{LABELS[name]}</span>
                    <span class="value" data-value={JSON.stringify(row.metrics[i])}>
                      {metric(name, row.metrics[i])}
                    </span>
                    {row.comparison && (
                      <span class={`change ${good}`} data-change={String(c)}>
                        {change(name, c)} <span class="was">from {metric(name, row.comparison.metrics[i])}</span>
                      </span>
                    )}
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </Status>
      {top.data?.meta?.warning && (
        <p class="notice" id="coverage">
          {top.data.meta.warning}
        </p>
      )}
      {lostCount ? (
        <p class="lost" id="lost" data-lost={lostCount}>
          {lostCount} event{lostCount === 1 ? "" : "s"} lost in visitors' browsers before they could be sent (outbox full while offline)
        </p>
      ) : null}
    </section>
  );
}
