// Runs last (files run in name order): after every other test has written through the real worker —
// browsers, the traffic replay, bots, hostile input — no table of the local D1 holds an IP address,
// an email address or a user-agent string.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { d1 } from "./helpers.mjs";

const PATTERNS = {
  "an IPv4 address": /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/,
  "an IPv6 address": /(?<![0-9a-f:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?<![0-9a-z])[0-9a-f]{1,4}::(?:[0-9a-f]{1,4})?(?![0-9a-z])/i,
  "an email address": /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/,
  "a user-agent string": /Mozilla\/|AppleWebKit|Gecko\/|HeadlessChrome|Googlebot|curl\/\d|python-requests/i,
};

describe("D1 scan", () => {
  test("no table holds an IP address, an email or a user agent", () => {
    const tables = d1("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'").map((t) => t.name);
    for (const expected of ["events", "sessions", "rollups", "sites", "salts", "dead_letters"]) assert.ok(tables.includes(expected), `table ${expected} exists`);
    let rows = 0;
    for (const table of tables) {
      const data = d1(`SELECT * FROM ${table}`);
      rows += data.length;
      // The local demo site is served at 127.0.0.1: its own address appears as a domain and a page
      // host. Visitors' addresses in the suite are 203.0.113.x, 198.51.x.x, 192.0.2.x and 10.x.x.x.
      const text = JSON.stringify(data).replaceAll("127.0.0.1", "");
      for (const [what, pattern] of Object.entries(PATTERNS)) {
        const hit = text.match(pattern);
        assert.equal(hit, null, `${table} holds ${what}: …${hit && text.slice(Math.max(0, hit.index - 80), hit.index + 80)}…`);
      }
    }
    assert.ok(rows > 1000, `the scan read the suite's data (${rows} rows)`);
  });
});
