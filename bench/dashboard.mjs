// npm run bench:dashboard — what the dashboard page downloads, as built by `npm run build`
// (www/dist): its JS and CSS, gzip -9 and brotli, and in one run beside it what its two libraries
// weigh alone (each bundled and minified by esbuild, as Vite does): Preact and uPlot. The
// page's own code is the rest. Its first-load time against the busy site is in bench:reports.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
const DIST = join(ROOT, "www/dist");
/** The page's JS budget, gzip -9 bytes: the charting library and the UI library included. */
const BUDGET = 48 * 1024;

const html = readFileSync(join(DIST, "dashboard/index.html"), "utf8");
const assets = (re) => [...html.matchAll(re)].map((m) => join(DIST, m[1]));
const js = assets(/<script[^>]+src="([^"]+\.js)"/g);
const css = assets(/<link[^>]+href="([^"]+\.css)"/g);
if (!js.length) throw new Error("www/dist/dashboard/index.html loads no script: run npm run build first");

const sizes = (buf) => ({
  raw: buf.length,
  gzip: gzipSync(buf, { level: 9 }).length,
  brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
const files = (list) => sizes(Buffer.concat(list.map((f) => readFileSync(f))));

/** A library alone, bundled and minified for the browser from www's node_modules. */
async function library(code) {
  const out = await build({
    stdin: { contents: code, resolveDir: join(ROOT, "www"), loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    write: false,
    logLevel: "silent",
  });
  return sizes(Buffer.from(out.outputFiles[0].contents));
}

const rows = [
  ["dashboard JS (all it loads)", files(js)],
  ["  of which Preact + hooks (alone)", await library(`export * from "preact"; export * from "preact/hooks";`)],
  ["  of which uPlot (alone)", await library(`export { default } from "uplot";`)],
  ["dashboard CSS (uPlot's included)", files(css)],
];
const kb = (n) => (n / 1024).toFixed(1).padStart(8);
console.log("\ndashboard (www/dist, as npm run build makes it)\n");
console.log(`${"file".padEnd(36)}  ${"min KB".padStart(8)}  ${"gzip KB".padStart(8)}  ${"brotli KB".padStart(9)}`);
console.log(`${"-".repeat(36)}  ${"-".repeat(8)}  ${"-".repeat(8)}  ${"-".repeat(9)}`);
for (const [name, s] of rows) console.log(`${name.padEnd(36)}  ${kb(s.raw)}  ${kb(s.gzip)}  ${kb(s.brotli)} `);
const total = rows[0][1].gzip;
console.log(`\nJS budget: ${(BUDGET / 1024).toFixed(0)} KB gzip — ${total <= BUDGET ? "met" : "MISSED"} (${kb(total).trim()} KB)`);
if (total > BUDGET) process.exitCode = 1;
