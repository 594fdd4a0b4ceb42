// The top stats: each metric of the range, its change against the comparison, and the button that
// draws it in the graph. Under them, the delivery health line: events lost in visitors' browsers.
import { useEffect } from "preact/hooks";
import { useApi } from "./hooks.js";
import { topStatsQuery, topMetrics, lostQuery } from "./queries.js";
import { metric, change, upIsGood, LABELS } from "./format.js";
import { Status } from "./Status.jsx";

export function TopStats({ api, site, state, today, navigate, refresh }) {
  const body = topStatsQuery(site, state, today);
  const key = JSON.stringify(body) + refresh;
  const top = useApi(() => api.query(body), key);
  const lostBody = lostQuery(site, state, today);
  const lost = useApi(() => api.query(lostBody), state.filters.length ? null : JSON.stringify(lostBody) + refresh);
  const row = top.data?.results?.[0];
  const names = topMetrics(state);
  const lostCount = !state.filters.length && lost.data?.results?.[0]?.metrics?.[0];
  // For bench:reports: when the numbers first show (a performance mark, read by the benchmark).
  useEffect(() => {
    if (row) performance.mark("sightline:top-stats");
  }, [row]);
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
