// The details view of a breakdown: every row, searchable (the API's `contains`, case-insensitive),
// sortable by any column, a hundred a page, and exported as CSV (up to the API's 10 000 rows).
import { useEffect, useRef, useState } from "preact/hooks";
import { useApi, useDialog } from "./hooks.js";
import { breakdownQuery, tabMetrics, tabDimension } from "./queries.js";
import { csv, cell } from "./csv.js";
import { Rows, LastDay } from "./Breakdown.jsx";
import { queryOrLastDay } from "./narrow.js";
import { Status } from "./Status.jsx";

export const PAGE = 100;

/** The details view's order from the URL (`metric.asc`), else the first column's descending. */
function orderOf(state, metrics) {
  const [m, dir] = (state.sort || "").split(".");
  return metrics.includes(m) && (dir === "asc" || dir === "desc") ? [m, dir] : [metrics[0], "desc"];
}

export function Details({ api, site, state, today, navigate, tab, refresh, ready }) {
  // The latest navigate (it closes over the page's current state), for the search's debounce.
  const nav = useRef(navigate);
  nav.current = navigate;
  const [typed, setTyped] = useState(state.q);
  const [exporting, setExporting] = useState(false);
  const [failed, setFailed] = useState("");
  const dimension = tabDimension(tab, state);
  const metrics = tabMetrics(tab);
  const sort = orderOf(state, metrics);
  const page = state.page;
  const search = state.q;
  const body = breakdownQuery(site, state, today, tab, { limit: PAGE, offset: page * PAGE, order: sort, search });
  const read = useApi(() => queryOrLastDay(api, body, today), ready ? JSON.stringify(body) + refresh : null);
  const answer = { ...read, data: read.data?.answer };
  const rows = answer.data?.results ?? [];
  const total = answer.data?.meta?.total_rows ?? 0;

  // Closing replaces this entry: Back then goes to what was before the view opened.
  const dialog = useDialog(() => navigate({ details: "", q: "", sort: "", page: 0 }, true));
  // Search as one types, a moment after the last key.
  useEffect(() => {
    if (typed.trim() === state.q) return undefined;
    const t = setTimeout(() => nav.current({ q: typed.trim(), page: 0 }, true), 250);
    return () => clearTimeout(t);
  }, [typed]);

  function onSort(m) {
    const next = sort[0] === m ? [m, sort[1] === "desc" ? "asc" : "desc"] : [m, "desc"];
    navigate({ sort: next.join("."), page: 0 }, true);
  }
  const setPage = (p) => navigate({ page: p }, true);

  async function exportCsv() {
    setExporting(true);
    setFailed("");
    try {
      const { answer: all, lastDay } = await queryOrLastDay(api, breakdownQuery(site, state, today, tab, { limit: 10000, offset: 0, order: sort, search: typed.trim() }), today);
      const text = csv([dimension, ...metrics], all.results.map((r) => [r.dimensions[0], ...r.metrics.map(cell)]));
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
      const range = lastDay ? `${all.query.date_range[0].slice(0, 10)}` : state.period.replace(/[^a-z0-9-]/gi, "_");
      a.download = `${site}-${tab.id}-${range}.csv`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      if ((all.meta?.total_rows ?? 0) > all.results.length) setFailed(`Exported the first ${all.results.length} of ${all.meta.total_rows} rows (the API's most in one answer).`);
    } catch (e) {
      setFailed(`Could not export: ${e.message}`);
    } finally {
      setExporting(false);
    }
  }

  return (
    <dialog ref={dialog} class="details-view" aria-labelledby="details-title">
      <div class="details-head">
        <h2 id="details-title">{tab.label}</h2>
        <input type="search" placeholder="Search" aria-label={`Search ${tab.label}`} value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        <button type="button" class="export" onClick={exportCsv} disabled={exporting}>
          {exporting ? "Exporting…" : "Export CSV"}
        </button>
        <button type="button" class="close" aria-label="Close" onClick={() => dialog.current?.close()}>
          ✕
        </button>
      </div>
      {failed && (
        <p class="notice" role="status">
          {failed}
        </p>
      )}
      <LastDay read={read} />
      <Status loading={!ready || answer.loading} error={answer.error} empty={answer.data && !rows.length}>
        {rows.length ? <Rows rows={rows} tab={tab} dimension={dimension} navigate={navigate} state={state} sort={sort} onSort={onSort} /> : null}
      </Status>
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
          Previous
        </button>
        <span class="range" role="status">
          {total ? `${page * PAGE + 1}–${Math.min(total, (page + 1) * PAGE)} of ${total}` : ""}
        </span>
        <button type="button" disabled={(page + 1) * PAGE >= total} onClick={() => setPage(page + 1)}>
          Next
        </button>
      </nav>
    </dialog>
  );
}
