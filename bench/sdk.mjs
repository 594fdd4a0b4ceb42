// npm run bench:sdk — the SDK's size and main-thread cost, side by side with Plausible's tracker,
// web-vitals and posthog-js (dev dependencies), measured in one run in headless Chromium.
// Sizes: gzip -9 and brotli of each file a page loads. Speed: median of RUNS fresh page loads, each
// against a local sink that answers every tracker's requests (loopback only).
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { chromium } from "playwright-core";

const ROOT = resolve(import.meta.dirname, "..");
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const EVENTS = 100;
const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

const pkg = (p) => join(ROOT, "sdk/pkg", p);
const VERSION = JSON.parse(readFileSync(join(ROOT, "sdk/npm/package.json"), "utf8")).version;
/** The SDK's size budget for what a page downloads, gzip -9 bytes. */
const BUDGET = 16384;
const nm = (p) => join(ROOT, "node_modules", p);
const files = {
  "/sl/loader.js": pkg("loader.js"),
  // Where the collector hosts them: /sightline.js, and the SDK copy it loads the wasm from.
  "/sightline.js": pkg("loader.js"),
  [`/sdk/${VERSION}/wasm/sightline.wasm`]: pkg("wasm/sightline.wasm"),
  "/sl/index.js": pkg("index.js"),
  "/sl/wasm/sightline.wasm": pkg("wasm/sightline.wasm"),
  "/sl/wasm/sightline-full.wasm": pkg("wasm/sightline-full.wasm"),
  "/plausible.js": nm("@plausible-analytics/tracker/plausible.js"),
  "/web-vitals.js": nm("web-vitals/dist/web-vitals.js"),
  "/posthog.js": nm("posthog-js/dist/module.js"),
};

// Each tracker: what a page loads, how it starts, and its equivalent of trackEvent.
const trackers = [
  {
    // No generated glue: the wrapper holds the wasm's imports (sdk/src/browser.rs).
    name: "Sightline (npm: wrapper + wasm)",
    files: ["/sl/index.js", "/sl/wasm/sightline.wasm"],
    start: `import { init, trackEvent } from "/sl/index.js"; mark(); init({ site: "bench", endpoint: location.origin }); window.track = (i) => trackEvent("bench", { i });`,
  },
  {
    // The hosted script holds the loader and the wrapper; it fetches the wasm from the versioned copy.
    name: "Sightline (<script>: /sightline.js + wasm)",
    files: ["/sl/loader.js", "/sl/wasm/sightline.wasm"],
    html: `<script>mark()</script><script src="/sightline.js" data-site="bench"></script><script>window.track = (i) => sightline.trackEvent("bench", { i });</script>`,
  },
  {
    // webVitals or autoCapture: the wrapper loads the full build instead.
    name: "Sightline + webVitals + autoCapture",
    files: ["/sl/index.js", "/sl/wasm/sightline-full.wasm"],
    start: `import { init, trackEvent } from "/sl/index.js"; mark(); init({ site: "bench", endpoint: location.origin, webVitals: true, autoCapture: true }); window.track = (i) => trackEvent("bench", { i });`,
  },
  {
    name: "@plausible-analytics/tracker",
    files: ["/plausible.js"],
    start: `import { init, track } from "/plausible.js"; mark(); init({ domain: "bench.local", endpoint: location.origin + "/api/event", captureOnLocalhost: true, logging: false }); window.track = (i) => track("bench", { props: { i: String(i) } });`,
  },
  {
    name: "web-vitals (all five metrics)",
    files: ["/web-vitals.js"],
    start: `import { onLCP, onINP, onCLS, onFCP, onTTFB } from "/web-vitals.js"; mark(); const send = (m) => navigator.sendBeacon("/vitals", JSON.stringify(m)); for (const on of [onLCP, onINP, onCLS, onFCP, onTTFB]) on(send, { reportAllChanges: true });`,
  },
  {
    name: "posthog-js",
    files: ["/posthog.js"],
    start: `import { posthog } from "/posthog.js"; mark(); posthog.init("phc_bench", { api_host: location.origin, autocapture: false, disable_session_recording: true, advanced_disable_flags: true, request_batching: false, persistence: "localStorage", opt_out_useragent_filter: true }); posthog.capture("$pageview"); window.track = (i) => posthog.capture("bench", { i });`,
  },
];

const HARNESS = `<script>
  // Records the first request any tracker sends, by fetch, sendBeacon or XHR.
  window.__first = 0;
  const hit = () => { if (!window.__first) window.__first = performance.now(); };
  const f = window.fetch; window.fetch = function (...a) { if (String(a[0] && (a[0].url || a[0])).match(/api|\\/e\\/|\\/i\\/|vitals|batch/)) hit(); return f.apply(this, a); };
  const b = navigator.sendBeacon.bind(navigator); navigator.sendBeacon = (...a) => { hit(); return b(...a); };
  const o = XMLHttpRequest.prototype.open; XMLHttpRequest.prototype.open = function (...a) { hit(); return o.apply(this, a); };
  window.mark = () => { window.__t0 = performance.now(); };
</script>`;

const page = (t) => `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">${HARNESS}
${t.html ?? `<script type="module">${t.start}</script>`}</head><body><h1>bench</h1><p>Some text so that paint metrics exist.</p></body></html>`;

function serve() {
  const server = createServer((req, res) => {
    const path = req.url.split("?")[0];
    const type = path.endsWith(".wasm") ? "application/wasm" : path.endsWith(".js") ? "text/javascript" : "text/html";
    if (files[path]) {
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
      return res.end(readFileSync(files[path]));
    }
    const t = trackers.find((_, i) => path === `/page/${i}`);
    if (t) {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(page(t));
    }
    // The sink: accepts whatever a tracker sends or asks for.
    req.resume();
    res.writeHead(req.method === "POST" ? 202 : 200, { "content-type": "application/json", "access-control-allow-origin": "*" });
    res.end("{}");
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

async function measure(browser, base, index, t) {
  const results = { firstSend: [], script: [], perEvent: [] };
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ userAgent: UA });
    const p = await context.newPage();
    const cdp = await context.newCDPSession(p);
    await cdp.send("Performance.enable");
    const log = [];
    p.on("console", (m) => log.push(`${m.type()}: ${m.text()}`));
    p.on("pageerror", (e) => log.push(`error: ${e.message}`));
    p.on("requestfailed", (r) => log.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
    await p.goto(`${base}/page/${index}`);
    await p.waitForFunction(() => window.__first > 0, null, { timeout: 15000, polling: 100 }).catch((e) => {
      throw new Error(`${t.name}: no request within 15 s\n${log.join("\n")}`, { cause: e });
    });
    const metrics = Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
    results.firstSend.push(await p.evaluate(() => window.__first - window.__t0));
    results.script.push(metrics.ScriptDuration * 1000);
    if (await p.evaluate(() => typeof window.track === "function")) {
      await p.waitForTimeout(300);
      results.perEvent.push(
        await p.evaluate((n) => {
          const t0 = performance.now();
          for (let i = 0; i < n; i++) window.track(i);
          return (performance.now() - t0) / n;
        }, EVENTS),
      );
    }
    await context.close();
  }
  return { firstSend: median(results.firstSend), script: median(results.script), perEvent: median(results.perEvent) };
}

const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const br = (buf) => brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const kb = (n) => (Number.isFinite(n) ? (n / 1024).toFixed(1) : "—");
const ms = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "—");

function table(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  console.log(line(head));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
  console.log();
}

const server = await serve();
if (process.env.BENCH_SERVE_ONLY) { console.log(`http://127.0.0.1:${server.address().port}`); await new Promise(() => {}); }
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  console.log(`\nSightline SDK bench — sizes of each file, then medians of ${RUNS} fresh page loads in headless Chromium\n`);
  const parts = [
    ["Sightline /sightline.js (<script>: loader + wrapper)", "/sl/loader.js"],
    ["Sightline npm wrapper + wasm imports", "/sl/index.js"],
    ["Sightline wasm (default)", "/sl/wasm/sightline.wasm"],
    ["Sightline wasm (webVitals/autoCapture)", "/sl/wasm/sightline-full.wasm"],
  ];
  table(
    ["file", "raw KB", "gzip KB", "brotli KB"],
    parts.map(([label, f]) => {
      const buf = readFileSync(files[f]);
      return [label, kb(buf.length), kb(gz(buf)), kb(br(buf))];
    }),
  );
  const rows = [];
  for (const [i, t] of trackers.entries()) {
    const bufs = t.files.map((f) => readFileSync(files[f]));
    const speed = await measure(browser, base, i, t);
    rows.push([
      t.name,
      kb(bufs.reduce((s, b) => s + gz(b), 0)),
      kb(bufs.reduce((s, b) => s + br(b), 0)),
      ms(speed.firstSend),
      ms(speed.script),
      ms(speed.perEvent * 1000, 0),
    ]);
  }
  table(["tracker (what a page loads)", "gzip KB", "brotli KB", "init→first send ms", "script ms to then", "µs per event"], rows);
  // The budget, for both ways a page gets the SDK: bytes, not rounded KB.
  table(
    ["what a page downloads (default build)", "gzip B", "budget B", "left B"],
    trackers.slice(0, 2).map((t) => {
      const bytes = t.files.reduce((sum, f) => sum + gz(readFileSync(files[f])), 0);
      return [t.name, bytes, BUDGET, BUDGET - bytes];
    }),
  );
} finally {
  await browser.close();
  server.close();
}
