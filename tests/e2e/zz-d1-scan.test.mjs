// Runs last (files run in name order): after every other test has written through the real worker —
// browsers, the traffic replay, bots, hostile input, beacons sent past the SDK — no table of the
// local D1 holds an IP address, an email address (also encoded), a user-agent string, the suite's
// card and phone numbers, or a prop under a secret's key.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { d1 } from "./helpers.mjs";

const PATTERNS = {
  "an IPv4 address": /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/,
  "an IPv6 address": /(?<![0-9a-f:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?<![0-9a-z])[0-9a-f]{1,4}::(?:[0-9a-f]{1,4})?(?![0-9a-z])/i,
  "an email address": /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/,
  "a user-agent string": /Mozilla\/|AppleWebKit|Gecko\/|HeadlessChrome|Googlebot|curl\/\d|python-requests/i,
  "an encoded email address": /[A-Za-z0-9._%+-]+(?:%40|%2540|%25%34%30|＠|﹫)[A-Za-z0-9-]+(?:(?:\.|%2E|．)[A-Za-z0-9-]+)*(?:\.|%2E|．)[A-Za-z]{2,}|@[A-Za-z0-9-]+%2E[A-Za-z]{2,}/i,
  // The suite's test card numbers, with any separator (a generic card pattern would hit random hex ids).
  "a card number": /4111(?:[ .-]?1111){3}|5555(?:[ .-]?5555){2}[ .-]?4444/,
  // International phone numbers as people write them (spaces or dashes: never inside an id or hash).
  "a phone number": /(?:\+|\b00)[1-9]\d{0,2}[ -]\(?\d{1,4}\)?[ -]\d{3,4}[ -]?\d{3,4}\b|7946[ -]?0958|202-555-0143/,
};
/** Prop keys that name a secret, as the suite's hostile senders use them. */
const SECRET_KEYS = /^(?:password|api_key|apiKey|card_number|cvv)$/;

describe("D1 scan", () => {
  test("no table holds an IP address, an email, a user agent, a card or phone number, or a secret", () => {
    const tables = d1("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'").map((t) => t.name);
    for (const expected of ["events", "recent_events", "sessions", "day_parts", "sites", "salts", "dead_letters"]) assert.ok(tables.includes(expected), `table ${expected} exists`);
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
    for (const { props } of d1("SELECT props FROM events")) {
      const secret = Object.keys(JSON.parse(props)).find((key) => SECRET_KEYS.test(key));
      assert.equal(secret, undefined, `events.props holds the secret key ${secret}: ${props}`);
    }
  });
});
