// Filters as the page holds them: Stats API v2 filter clauses, read back as words for the chips.

/** Dimensions a filter can name, with their labels. */
export const DIMENSIONS = {
  "event:page": "Page",
  "visit:entry_page": "Entry page",
  "visit:exit_page": "Exit page",
  "visit:source": "Source",
  "visit:referrer": "Referrer",
  "visit:channel": "Channel",
  "visit:utm_source": "UTM source",
  "visit:utm_medium": "UTM medium",
  "visit:utm_campaign": "UTM campaign",
  "visit:country": "Country",
  "visit:device": "Device",
  "visit:browser": "Browser",
  "visit:os": "OS",
  "event:goal": "Goal",
  "event:name": "Event",
  "event:hostname": "Hostname",
};

export const OPERATORS = { is: "is", is_not: "is not", contains: "contains", contains_not: "does not contain" };

/** A dimension's label (props by their key). */
export function dimensionLabel(d) {
  if (d.startsWith("event:props:")) return `Property ${d.slice(12)}`;
  return DIMENSIONS[d] || d;
}

/** The filters with `dimension is value` in place of any `is` on that dimension. */
export function withValue(filters, dimension, value) {
  const rest = filters.filter((f) => !(f[0] === "is" && f[1] === dimension));
  return [...rest, ["is", dimension, [value]]];
}

/** A filter in words (segments by their name when known). */
export function describe(f, segments = []) {
  if (f[0] === "is" && f[1] === "segment") {
    const names = f[2].map((id) => segments.find((s) => s.id === id)?.name ?? `#${id}`);
    return `Segment ${names.join(" or ")}`;
  }
  if (typeof f[1] === "string" && Array.isArray(f[2])) {
    return `${dimensionLabel(f[1])} ${OPERATORS[f[0]] ?? f[0]} ${f[2].join(" or ")}`;
  }
  return JSON.stringify(f);
}
