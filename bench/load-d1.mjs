// Loads SQL files into the LOCAL D1 of a wrangler state directory (never a deploy), fast: the
// same local D1 that `wrangler d1 execute DB --local --persist-to DIR --file F` uses (Miniflare's,
// for the database named in wrangler.toml), opened once for all the files, its statements sent in
// batches. `wrangler d1 execute` splits a file with a character-by-character SQL parser: ~80 s for
// 28 MB here, too slow for a year of a busy site. The files must end each statement with `;` and a
// newline, and no value may hold a newline (core/examples/busy_site.rs writes them so).
// Usage: node bench/load-d1.mjs STATE_DIR FILE.sql...
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";

const [state, ...files] = process.argv.slice(2);
if (!state || files.length === 0) {
  console.error("usage: node bench/load-d1.mjs STATE_DIR FILE.sql...");
  process.exit(2);
}
const toml = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
const id = toml.match(/database_id\s*=\s*"([^"]+)"/)?.[1];
if (!id) throw new Error("wrangler.toml names no D1 database_id");

const mf = new Miniflare({ modules: true, script: "export default {}", d1Persist: join(state, "v3", "d1"), d1Databases: { DB: id } });
const BATCH_BYTES = 8 << 20;
try {
  const db = await mf.getD1Database("DB");
  for (const file of files) {
    const statements = readFileSync(file, "utf8").split(";\n").filter((s) => s.trim() !== "");
    let batch = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length > 0) await db.batch(batch.map((sql) => db.prepare(sql)));
      [batch, bytes] = [[], 0];
    };
    for (const sql of statements) {
      batch.push(sql);
      bytes += sql.length;
      if (bytes >= BATCH_BYTES) await flush();
    }
    await flush();
  }
} finally {
  await mf.dispose();
}
