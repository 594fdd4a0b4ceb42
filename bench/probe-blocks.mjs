// A design probe for the query engine's open floors (issue 10: a filtered breakdown over 30 days
// of the busy site ≤ 250 ms, a 4-step funnel ≤ 500 ms), measuring the one unknown of per-day
// column blocks: how fast local D1 hands over 30 days of them. It writes day blocks of the sizes
// a columnar encoding of the busy site's days would have (bytes of pseudo-random content, which
// no compression would shrink) into a throwaway local D1 and times reading them back through
// Miniflare's D1 (from Node: one hop more than a worker's own binding, so an upper bound).
// Usage: node bench/probe-blocks.mjs [DIR]   (a scratch directory; nothing else is touched)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Miniflare } from "miniflare";

const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), "probe-blocks-"));
const mf = new Miniflare({ modules: true, script: "export default {}", d1Persist: join(dir, "d1"), d1Databases: { DB: "probe" } });
const DAYS = 30;
const RUNS = Number(process.env.RUNS ?? 7);

function bytes(n, seed) {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const db = await mf.getD1Database("DB");
  // Two tables: the same blocks as BLOBs and as base64 text (D1 hands a BLOB over as a JSON array
  // of numbers, one per byte).
  await db.exec("CREATE TABLE blocks (site TEXT NOT NULL, day INTEGER NOT NULL, col TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (site, day, col)) WITHOUT ROWID");
  await db.exec("CREATE TABLE texts (site TEXT NOT NULL, day INTEGER NOT NULL, col TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (site, day, col)) WITHOUT ROWID");
  // Per day: the visits' columns (≈30 000 visits: device, source, country, browser, os codes and
  // event counts: 1 byte each; the visitor index, 3 bytes) and the events' (100 000: page code
  // 2 bytes, name code 1 byte, seconds into the day 3 bytes).
  const COLUMNS = { device: 30_000, source: 30_000, country: 30_000, browser: 30_000, os: 30_000, runs: 30_000, visitor: 90_000, page: 200_000, name: 100_000, second: 300_000 };
  const whole = Object.values(COLUMNS).reduce((a, b) => a + b, 0);
  for (let day = 0; day < DAYS; day++) {
    const rows = Object.entries(COLUMNS).map(([col, n], i) => db.prepare("INSERT INTO blocks VALUES ('busy', ?1, ?2, ?3)").bind(day, col, bytes(n, day * 97 + i + 1)));
    rows.push(db.prepare("INSERT INTO blocks VALUES ('busy', ?1, 'whole', ?2)").bind(day, bytes(whole, day + 1000)));
    const b64 = (u8) => Buffer.from(u8).toString("base64");
    Object.entries(COLUMNS).forEach(([col, n], i) => rows.push(db.prepare("INSERT INTO texts VALUES ('busy', ?1, ?2, ?3)").bind(day, col, b64(bytes(n, day * 97 + i + 1)))));
    rows.push(db.prepare("INSERT INTO texts VALUES ('busy', ?1, 'whole', ?2)").bind(day, b64(bytes(whole, day + 1000))));
    await db.batch(rows);
  }
  const time = async (what, sql, binds) => {
    const ms = [];
    let got = 0;
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      const { results } = await db.prepare(sql).bind(...binds).all();
      ms.push(performance.now() - t);
      got = results.reduce((sum, row) => sum + (typeof row.data === "string" ? row.data.length : row.data.length ?? row.data.byteLength), 0);
    }
    console.log(`${what.padEnd(58)} ${(got / 1e6).toFixed(1).padStart(6)} MB  p50 ${median(ms).toFixed(0).padStart(5)} ms  max ${Math.max(...ms).toFixed(0).padStart(5)} ms`);
  };
  console.log(`${DAYS} days of blocks, ${RUNS} reads each, through Miniflare's local D1 (from Node)`);
  const cols = (list) => [JSON.stringify(list)];
  for (const table of ["texts", "blocks"]) {
    const kind = table === "texts" ? "base64 TEXT" : "BLOB";
    await time(`${kind}: whole days (every column)`, `SELECT data FROM ${table} WHERE site = 'busy' AND col = 'whole'`, []);
    await time(`${kind}: filtered breakdown's columns`, `SELECT data FROM ${table} WHERE site = 'busy' AND col IN (SELECT value FROM json_each(?1))`, cols(["device", "runs", "visitor", "page", "name"]));
    await time(`${kind}: funnel's columns`, `SELECT data FROM ${table} WHERE site = 'busy' AND col IN (SELECT value FROM json_each(?1))`, cols(["runs", "visitor", "page", "name", "second"]));
    await time(`${kind}: one day, every column`, `SELECT data FROM ${table} WHERE site = 'busy' AND col = 'whole' AND day = 0`, []);
  }
} finally {
  await mf.dispose();
  if (!process.argv[2]) rmSync(dir, { recursive: true, force: true });
}
