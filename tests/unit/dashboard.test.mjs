// The dashboard's pure modules, without a browser: the URL's state round-trips and refuses what a
// hand-made link may hold; CSV fields are quoted and never run as formulas; the graph's buckets
// mark the one in progress and leave later ones undrawn; the queries follow Plausible's rules.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse, serialize, wellFormed } from "../../www/src/dashboard/state.js";
import { csv, field } from "../../www/src/dashboard/csv.js";
import { buckets } from "../../www/src/dashboard/buckets.js";
import * as Q from "../../www/src/dashboard/queries.js";

describe("state in the URL", () => {
  test("every part round-trips, defaults stay out of the URL", () => {
    const state = {
      ...parse(""),
      site: "shop",
      period: "custom:2026-11-01,2026-11-30",
      compare: "year_over_year",
      interval: "week",
      metric: "pageviews",
      staff: true,
      filters: [["is", "visit:source", ["Google", "Bing"]], ["contains", "event:page", ["/p"], { case_sensitive: false }], ["is", "segment", [3]]],
      prop: "plan",
      tabs: { sources: "referrers", goals: "revenue" },
      details: "pages",
      q: "shoe",
      sort: "pageviews.asc",
      page: 2,
      funnel: "4",
    };
    assert.deepEqual(parse(serialize(state)), state);
    assert.equal(serialize(parse("")), "");
    assert.equal(serialize({ ...parse(""), site: "a" }), "?site=a");
  });

  test("a hand-made link's malformed filters are left out, not thrown on", () => {
    const f = encodeURIComponent(JSON.stringify([["is", "segment", 1], ["is", "segment", [0]], ["is", "visit:source"], "x", ["is", "visit:os", [3]], ["is", "visit:os", ["Linux"]]]));
    assert.deepEqual(parse(`?f=${f}`).filters, [["is", "visit:os", ["Linux"]]]);
    assert.deepEqual(parse("?f=not-json").filters, []);
    assert.equal(parse("?page=-3").page, 0);
    assert.equal(parse("?page=1.5").page, 0);
    assert.ok(!wellFormed(["is", "event:page", []]));
    assert.ok(wellFormed(["is", "segment", [7]]));
  });
});

describe("CSV", () => {
  test("quotes what needs quoting and defuses formulas", () => {
    assert.equal(field('a,"b"'), '"a,""b"""');
    assert.equal(field("line\nbreak"), '"line\nbreak"');
    assert.equal(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    assert.equal(field("+1"), "'+1");
    assert.equal(field("@x"), "'@x");
    assert.equal(field(-5), "-5", "numbers are written as they are");
    assert.equal(field(null), "");
    assert.equal(csv(["a", "b"], [["=1", 2]]), "a,b\r\n'=1,2\r\n");
  });
});

describe("graph buckets", () => {
  const hours = (day) => Array.from({ length: 24 }, (_, h) => `${day} ${String(h).padStart(2, "0")}:00:00`);
  const answer = (labels, rows, range) => ({ meta: { time_labels: labels }, results: rows.map(([d, m]) => ({ dimensions: [d], metrics: m })), query: { date_range: range } });

  test("the hour holding now is in progress, later ones are not drawn, missing ones count 0", () => {
    const labels = hours("2026-12-07");
    const a = answer(labels, [["2026-12-07 01:00:00", [4]], ["2026-12-07 05:00:00", [2]]], ["2026-12-07T00:00:00-05:00", "2026-12-07T23:59:59-05:00"]);
    // 10:30 UTC is 05:30 in New York (-05:00).
    const b = buckets(a, null, "visitors", Date.parse("2026-12-07T10:30:00Z"));
    assert.equal(b.length, 24);
    assert.deepEqual(b.slice(0, 6).map((x) => x.value), [0, 4, 0, 0, 0, 2]);
    assert.deepEqual(b.map((x) => x.current).indexOf(true), 5);
    assert.equal(b.filter((x) => x.current).length, 1);
    assert.ok(b.slice(6).every((x) => x.value === null && x.future));
  });

  test("a past range has no bucket in progress; rates of empty buckets are gaps, not zeros", () => {
    const labels = ["2026-11-01", "2026-11-02", "2026-11-03"];
    const a = answer(labels, [["2026-11-02", [40]]], ["2026-11-01T00:00:00+00:00", "2026-11-03T23:59:59+00:00"]);
    const b = buckets(a, null, "bounce_rate", Date.parse("2026-12-07T10:00:00Z"));
    assert.deepEqual(b.map((x) => [x.value, x.current]), [[null, false], [40, false], [null, false]]);
  });

  test("the comparison is matched bucket for bucket; views per visit are divided here", () => {
    const a = answer(["2026-11-01", "2026-11-02"], [["2026-11-01", [30, 10]], ["2026-11-02", [7, 0]]], ["2026-11-01T00:00:00+00:00", "2026-11-02T23:59:59+00:00"]);
    const c = answer(["2026-10-30", "2026-10-31"], [["2026-10-31", [9, 4]]], ["2026-10-30T00:00:00+00:00", "2026-10-31T23:59:59+00:00"]);
    const b = buckets(a, c, "views_per_visit", Date.parse("2026-12-07T10:00:00Z"));
    assert.deepEqual(b.map((x) => [x.value, x.was]), [[3, null], [null, 2.25]]);
  });
});

describe("queries", () => {
  const state = { ...parse(""), site: "s" };
  test("views per visit is not asked with a page filter, nor drawn by time bucket", () => {
    assert.ok(Q.topStatsQuery("s", state, "2026-12-07").metrics.includes("views_per_visit"));
    assert.ok(!Q.topStatsQuery("s", { ...state, filters: [["is", "event:page", ["/"]]] }, "2026-12-07").metrics.includes("views_per_visit"));
    assert.deepEqual(Q.graphQuery("s", { ...state, metric: "views_per_visit" }, "2026-12-07").metrics, ["pageviews", "visits"]);
  });
  test("a metric that is no top stat any more is drawn as visitors", () => {
    assert.deepEqual(Q.graphQuery("s", { ...state, metric: "conversion_rate" }, "2026-12-07").metrics, ["visitors"]);
    assert.deepEqual(Q.graphQuery("s", { ...state, metric: "conversion_rate", filters: [["is", "event:goal", ["purchase"]]] }, "2026-12-07").metrics, ["conversion_rate"]);
  });
  test("yesterday and custom ranges are pairs of dates; staff is asked for only when on", () => {
    assert.deepEqual(Q.dateRange("yesterday", "2026-03-01"), ["2026-02-28", "2026-02-28"]);
    assert.deepEqual(Q.dateRange("custom:2026-01-01,2026-01-31", "2026-03-01"), ["2026-01-01", "2026-01-31"]);
    assert.equal(Q.topStatsQuery("s", state, "2026-12-07").include.internal, undefined);
    assert.equal(Q.topStatsQuery("s", { ...state, staff: true }, "2026-12-07").include.internal, true);
  });
});
