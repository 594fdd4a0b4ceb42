// CSV export of a breakdown, as RFC 4180 reads it: quoted when a field holds a comma, a quote or a
// line break; a field that a spreadsheet would run as a formula (= + - @ at the start) is prefixed
// with a quote mark, so an attacker's page path cannot become a formula in the owner's sheet.

/** One field. */
export function field(v) {
  let s = v === null || v === undefined ? "" : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows (arrays) as CSV text with a header line. */
export function csv(header, rows) {
  return [header, ...rows].map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}

/** A cell of a metric for export: revenue as its number (one currency a row), else the value. */
export function cell(v) {
  if (v && typeof v === "object") return v.value ?? JSON.stringify(v.by_currency ?? null);
  return v;
}
