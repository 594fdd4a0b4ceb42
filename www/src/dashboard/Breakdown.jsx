// A breakdown panel: tabs of dimensions, the top rows with a bar of their share, a click on a row
// filtering the page by it, and a way into the details view.
import { useApi } from "./hooks.js";
import { breakdownQuery, tabMetrics, tabDimension, TABS, DEFAULT_PROP } from "./queries.js";
import { metric, COLUMNS, country } from "./format.js";
import { withValue } from "./filters.js";
import { Status } from "./Status.jsx";
import { queryOrLastDay } from "./narrow.js";

/** The notice of a panel narrowed to the last whole day (see narrow.js). */
export function LastDay({ read }) {
  if (!read.data?.lastDay) return null;
  return (
    <p class="notice last-day">
      Counted from raw events, and this range holds more than one answer reads: the last whole day's ({read.data.answer.query.date_range[0].slice(0, 10)}).
    </p>
  );
}

/** How a row's value reads (countries by name). */
export function valueLabel(dimension, v) {
  return dimension === "visit:country" ? country(v) : v;
}

/** One table of rows; shared by the panel and the details view. */
export function Rows({ rows, tab, dimension, navigate, state, sort, onSort }) {
  const metrics = tabMetrics(tab);
  const top = Math.max(1, ...rows.map((r) => (typeof r.metrics[0] === "number" ? r.metrics[0] : r.metrics[0]?.value ?? 0)));
  return (
    <table class="rows" data-dimension={dimension}>
      <thead>
        <tr>
          <th scope="col">{tab.label}</th>
          {metrics.map((m) => (
            <th scope="col" key={m} class="num" aria-sort={sort && sort[0] === m ? (sort[1] === "asc" ? "ascending" : "descending") : undefined}>
              {onSort ? (
                <button type="button" class="sort" onClick={() => onSort(m)}>
                  {COLUMNS[m] || m}
                  {sort && sort[0] === m ? (sort[1] === "asc" ? " ▲" : " ▼") : ""}
                </button>
              ) : (
                COLUMNS[m] || m
              )}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const value = r.dimensions[0];
          const first = typeof r.metrics[0] === "number" ? r.metrics[0] : r.metrics[0]?.value ?? 0;
          return (
            <tr key={value} data-value={value} data-metrics={JSON.stringify(r.metrics)}>
              <th scope="row" style={`--share:${Math.round((first / top) * 100)}%`}>
                <button type="button" class="filter-by" title={`Filter by ${value}`} onClick={() => navigate({ filters: withValue(state.filters, dimension, value), details: "", q: "", sort: "", page: 0 })}>
                  {valueLabel(dimension, value)}
                </button>
              </th>
              {r.metrics.map((v, i) => (
                <td class="num" key={metrics[i]}>
                  {metric(metrics[i], v)}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function PropKey({ state, navigate }) {
  return (
    <label class="prop-key">
      Property{" "}
      <input
        value={state.prop || DEFAULT_PROP}
        size={10}
        list="prop-keys"
        onChange={(e) => navigate({ prop: e.currentTarget.value.trim() })}
      />
      <datalist id="prop-keys">
        {[DEFAULT_PROP, "plan", "currency", "method", "query", "path", "model"].map((k) => (
          <option value={k} key={k} />
        ))}
      </datalist>
    </label>
  );
}

export function Breakdown({ api, site, state, today, navigate, panel, tab: chosen, onTab, refresh, ready }) {
  const tab = TABS[chosen] && panel.tabs.includes(TABS[chosen]) ? TABS[chosen] : panel.tabs[0];
  const dimension = tabDimension(tab, state);
  const body = breakdownQuery(site, state, today, tab);
  const key = JSON.stringify(body) + refresh;
  const read = useApi(() => queryOrLastDay(api, body, today), ready ? key : null);
  const answer = { ...read, data: read.data?.answer };
  const rows = answer.data?.results ?? [];
  const total = answer.data?.meta?.total_rows ?? rows.length;
  return (
    <section class="panel" id={`panel-${panel.id}`} aria-labelledby={`panel-${panel.id}-title`}>
      <div class="panel-head">
        <h2 id={`panel-${panel.id}-title`}>{panel.title}</h2>
        {panel.tabs.length > 1 && (
          <div class="tabs" role="tablist" aria-label={`${panel.title} by`}>
            {panel.tabs.map((t) => (
              <button type="button" role="tab" key={t.id} data-tab={t.id} aria-selected={t === tab ? "true" : "false"} onClick={() => onTab(t.id)}>
                {t.label}
              </button>
            ))}
          </div>
        )}
      </div>
      {tab.id === "props" && <PropKey state={state} navigate={navigate} />}
      <LastDay read={read} />
      <Status loading={!ready || answer.loading} error={answer.error} empty={answer.data && !rows.length}>
        {rows.length ? <Rows rows={rows} tab={tab} dimension={dimension} navigate={navigate} state={state} /> : null}
      </Status>
      {rows.length ? (
        <button type="button" class="details" onClick={() => navigate({ details: tab.id, q: "", sort: "", page: 0 })}>
          Details{total > rows.length ? ` (${total})` : ""}
        </button>
      ) : null}
    </section>
  );
}
