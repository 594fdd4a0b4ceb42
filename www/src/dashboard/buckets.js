// The graph's buckets, from the API's answers: each bucket's value and its comparison's, and
// whether it is still in progress (it holds now, in the site's zone) or still to come. Pure: the
// unit tests (tests/unit/) check it without a browser.
import { graphValue } from "./queries.js";

/** "YYYY-MM-DD HH:MM:SS" of `ms` at a UTC offset "+01:00". */
function localNow(ms, offset) {
  const m = /([+-])(\d\d):(\d\d)$/.exec(offset || "");
  const shift = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000 : 0;
  return new Date(ms + shift).toISOString().slice(0, 19).replace("T", " ");
}

/**
 * The buckets of an answer: label, value, comparison value, and whether it is still in progress
 * (it holds now) or in the future.
 */
export function buckets(answer, comparison, metricName, now) {
  const labels = answer.meta?.time_labels ?? [];
  const byLabel = new Map(answer.results.map((r) => [r.dimensions[0], graphValue(metricName, r.metrics)]));
  const other = comparison ? comparison.meta?.time_labels ?? [] : [];
  const otherBy = comparison ? new Map(comparison.results.map((r) => [r.dimensions[0], graphValue(metricName, r.metrics)])) : null;
  const rate = ["bounce_rate", "views_per_visit", "visit_duration", "conversion_rate"].includes(metricName);
  const [, end] = answer.query.date_range;
  const nowLocal = localNow(now, end);
  const endLocal = end.slice(0, 19).replace("T", " ");
  return labels.map((label, i) => {
    const next = labels[i + 1];
    const future = label > nowLocal;
    const current = !future && (next ? next > nowLocal : endLocal >= nowLocal);
    const value = byLabel.has(label) ? byLabel.get(label) : rate ? null : 0;
    let was = null;
    if (otherBy && i < other.length) was = otherBy.has(other[i]) ? otherBy.get(other[i]) : rate ? null : 0;
    return { label, value: future ? null : value, was, current, future };
  });
}

