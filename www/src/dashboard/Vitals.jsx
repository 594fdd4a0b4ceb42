// Web vitals: the p75 of LCP, INP, CLS, FCP and TTFB for the site and per page, each coloured by
// Google's thresholds (good, needs improvement, poor).
import { useApi } from "./hooks.js";
import { vitalsQuery, VITALS, rating } from "./queries.js";
import { metric } from "./format.js";
import { Status } from "./Status.jsx";

const WORDS = { good: "good", "needs-improvement": "needs improvement", poor: "poor" };

function Reading({ vital, value }) {
  const r = rating(vital, value);
  return (
    <span class={`vital ${r ?? "none"}`} data-value={String(value)} title={r ? WORDS[r] : "no readings"}>
      {metric(vital.metric, value)}
      {r && <span class="visually-hidden"> ({WORDS[r]})</span>}
    </span>
  );
}

export function Vitals({ api, site, state, today, refresh }) {
  const siteBody = vitalsQuery(site, state, today, false);
  const pageBody = vitalsQuery(site, state, today, true);
  const whole = useApi(() => api.query(siteBody), JSON.stringify(siteBody) + refresh);
  const pages = useApi(() => api.query(pageBody), JSON.stringify(pageBody) + refresh);
  const row = whole.data?.results?.[0];
  const rows = (pages.data?.results ?? []).filter((r) => r.metrics.slice(0, 5).some((v) => v !== null));
  return (
    <section class="panel vitals" id="panel-vitals" aria-labelledby="vitals-title">
      <h2 id="vitals-title">Web vitals (p75)</h2>
      <Status loading={whole.loading || pages.loading} error={whole.error || pages.error} empty={whole.data && !rows.length}>
        {row && rows.length ? (
          <>
            <ul class="vital-tiles">
              {VITALS.map((v, i) => (
                <li key={v.metric} data-metric={v.metric}>
                  <span class="label">{v.label}</span> <Reading vital={v} value={row.metrics[i]} />
                </li>
              ))}
            </ul>
            <div class="scroll" tabIndex={0} role="region" aria-label="Web vitals per page">
            <table class="rows">
              <thead>
                <tr>
                  <th scope="col">Page</th>
                  {VITALS.map((v) => (
                    <th scope="col" class="num" key={v.metric}>
                      {v.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.dimensions[0]} data-value={r.dimensions[0]} data-metrics={JSON.stringify(r.metrics)}>
                    <th scope="row">{r.dimensions[0]}</th>
                    {VITALS.map((v, i) => (
                      <td class="num" key={v.metric}>
                        <Reading vital={v} value={r.metrics[i]} />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
            </div>
          </>
        ) : null}
      </Status>
    </section>
  );
}
