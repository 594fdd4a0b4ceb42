// Web vitals: the p75 of LCP, INP, CLS, FCP and TTFB for the site and per page, each coloured by
// Google's thresholds (good, needs improvement, poor).
import { useApi } from "./hooks.js";
import { vitalsQuery, VITALS, rating } from "./queries.js";
import { queryOrLastDay } from "./narrow.js";
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

export function Vitals({ api, site, state, today, refresh, ready }) {
  const key = JSON.stringify(vitalsQuery(site, state, today, false)) + refresh;
  // The site's first, then its pages: a range too long is then known, and asked once.
  const read = useApi(async () => {
    const whole = await queryOrLastDay(api, vitalsQuery(site, state, today, false), today);
    const pages = await queryOrLastDay(api, vitalsQuery(site, state, today, true, whole.lastDay), today);
    return { whole: whole.answer, pages: pages.answer, lastDay: whole.lastDay };
  }, ready ? key : null);
  const lastDay = read.data?.lastDay;
  const row = read.data?.whole.results?.[0];
  const rows = (read.data?.pages.results ?? []).filter((r) => r.metrics.slice(0, 5).some((v) => v !== null));
  return (
    <section class="panel vitals" id="panel-vitals" aria-labelledby="vitals-title">
      <h2 id="vitals-title">Web vitals (p75)</h2>
      {lastDay && (
        <p class="notice" id="vitals-last-day">
          Web vitals are exact percentiles of raw events, and this range holds more than one answer reads: these are the last whole day's ({read.data.whole.query.date_range[0].slice(0, 10)}).
        </p>
      )}
      <Status loading={!ready || read.loading} error={read.error} empty={read.data && !rows.length}>
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
