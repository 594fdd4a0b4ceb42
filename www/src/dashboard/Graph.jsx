// The graph: the chosen metric by time bucket, drawn with uPlot, the comparison as a second line
// and the bucket still in progress dashed. A table under it holds the same numbers for screen
// readers (and for the tests, which compare it with the API).
import { useEffect, useMemo, useRef } from "preact/hooks";
import uPlot from "uplot";
import { useApi } from "./hooks.js";
import { graphQuery, graphMetric, intervals } from "./queries.js";
import { buckets } from "./buckets.js";
import { metric, LABELS } from "./format.js";
import { Status } from "./Status.jsx";

/** Seconds since the epoch of a bucket label, read as UTC (the chart shows it as written). */
const stamp = (label) => Date.parse(`${label.replace(" ", "T")}${label.length > 10 ? "" : "T00:00:00"}Z`) / 1000;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A bucket label as a tick: "14:00", "Dec 6", "Dec 2026". */
function tick(label, interval) {
  if (interval === "hour" || interval === "minute") return label.slice(11, 16);
  const month = MONTHS[Number(label.slice(5, 7)) - 1] ?? "";
  return interval === "month" ? `${month} ${label.slice(0, 4)}` : `${month} ${Number(label.slice(8, 10))}`;
}

function colors() {
  const css = getComputedStyle(document.documentElement);
  return { line: css.getPropertyValue("--accent").trim(), was: css.getPropertyValue("--muted").trim(), grid: css.getPropertyValue("--grid").trim(), text: css.getPropertyValue("--text").trim() };
}

function Chart({ rows, metricName, interval }) {
  const el = useRef(null);
  useEffect(() => {
    if (!el.current || !rows.length) return undefined;
    const c = colors();
    const inc = rows.findIndex((r) => r.current);
    const x = rows.map((r) => stamp(r.label));
    const solid = rows.map((r, i) => (inc >= 0 && i >= inc ? null : r.value));
    const dashed = rows.map((r, i) => (inc >= 0 && (i === inc || i === inc - 1) ? r.value : null));
    const was = rows.map((r) => r.was);
    const hasWas = was.some((v) => v !== null);
    const fmt = (v) => (v === null || v === undefined ? "–" : metric(metricName, v));
    const axis = { stroke: c.text, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid } };
    const opts = {
      width: el.current.clientWidth || 600,
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        // One tick a bucket, thinned to fit: uPlot's own time ticks fall between daily buckets.
        {
          ...axis,
          splits: (u) => {
            const step = Math.ceil(x.length / Math.max(2, Math.floor(u.width / 90)));
            return x.filter((_, i) => i % step === 0);
          },
          values: (u, splits) => splits.map((t) => tick(rows[x.indexOf(t)]?.label ?? "", interval)),
        },
        { ...axis, size: 60, values: (u, vals) => vals.map(fmt) },
      ],
      series: [
        { label: "Time", value: (u, v) => (v === null ? "–" : rows[x.indexOf(v)]?.label ?? "") },
        { label: LABELS[metricName] || metricName, stroke: c.line, width: 2, fill: `${c.line}22`, value: (u, v) => fmt(v), spanGaps: false },
        ...(inc >= 0 ? [{ label: "In progress", stroke: c.line, width: 2, dash: [6, 5], value: (u, v) => fmt(v) }] : []),
        ...(hasWas ? [{ label: "Comparison", stroke: c.was, width: 1.5, value: (u, v) => fmt(v) }] : []),
      ],
    };
    const data = [x, solid, ...(inc >= 0 ? [dashed] : []), ...(hasWas ? [was] : [])];
    const plot = new uPlot(opts, data, el.current);
    performance.mark("sightline:graph");
    const resize = () => plot.setSize({ width: el.current.clientWidth, height: 240 });
    window.addEventListener("resize", resize);
    return () => {
      window.removeEventListener("resize", resize);
      plot.destroy();
    };
  }, [rows, metricName, interval]);
  return <div ref={el} class="chart" role="img" aria-label={`${LABELS[metricName] || metricName} over time`} />;
}

export function Graph({ api, site, state, today, navigate, refresh, onShown }) {
  const body = graphQuery(site, state, today);
  const metricName = graphMetric(state);
  const interval = body.dimensions[0].slice(5);
  const key = JSON.stringify(body) + refresh;
  const main = useApi(async () => {
    const answer = await api.query(body);
    // The comparison's own buckets, so a bucket without a row in the range still has its value.
    const range = answer.query.comparison_date_range;
    const other = range
      ? await api.query({ ...body, date_range: range.map((d) => d.slice(0, 10)), include: { ...body.include, comparisons: undefined } })
      : null;
    return { answer, other };
  }, key);
  useEffect(() => {
    if (main.data || main.error) onShown?.("graph");
  }, [main.data, main.error]);
  // Made again only for a new answer: the chart is drawn again only then.
  const rows = useMemo(() => (main.data ? buckets(main.data.answer, main.data.other, metricName, Date.now()) : []), [main.data, metricName]);
  return (
    <section class="graph" aria-label="Graph">
      <div class="graph-head">
        <h2>{LABELS[metricName] || metricName}</h2>
        <label>
          Interval{" "}
          <select value={interval} onChange={(e) => navigate({ interval: e.currentTarget.value })}>
            {intervals(state.period).map((i) => (
              <option value={i} key={i}>
                {i[0].toUpperCase() + i.slice(1)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <Status loading={main.loading} error={main.error} empty={main.data && !rows.length}>
        {main.data && rows.length ? (
          <>
            <Chart rows={rows} metricName={metricName} interval={interval} />
            <table class="visually-hidden graph-data">
              <caption>{LABELS[metricName] || metricName} by {interval}</caption>
              <thead>
                <tr>
                  <th scope="col">{interval}</th>
                  <th scope="col">{metricName}</th>
                  {state.compare && <th scope="col">comparison</th>}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.label} data-label={r.label} data-value={String(r.value)} data-was={String(r.was)} data-current={r.current ? "1" : "0"}>
                    <th scope="row">
                      {r.label}
                      {r.current ? " (in progress)" : ""}
                    </th>
                    <td>{r.value === null ? "–" : metric(metricName, r.value, true)}</td>
                    {state.compare && <td>{r.was === null ? "–" : metric(metricName, r.was, true)}</td>}
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : null}
      </Status>
    </section>
  );
}
