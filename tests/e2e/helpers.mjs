// Shared helpers for the end-to-end suite. The suite runs against a real `wrangler dev` with local D1,
// started by scripts/test.sh, which passes SIGHTLINE_BASE (its URL) and SIGHTLINE_STATE (its D1 dir).
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { chromium } from "playwright-core";

export const ROOT = resolve(import.meta.dirname, "../..");
export const BASE = process.env.SIGHTLINE_BASE ?? "http://127.0.0.1:8787";
export const STATE = process.env.SIGHTLINE_STATE ?? ".wrangler/state";
export const TOKEN = "dev-demo-token";
/**
 * The `Origin` the suite's beacons come from, as a browser on the test sites' domain (`localhost`)
 * sends it; the collector refuses a beacon with neither an allowed Origin nor the write token.
 */
export const ORIGIN = "http://localhost";
/** A desktop Chrome user agent: headless Chromium says "HeadlessChrome", which bot filters drop. */
export const DESKTOP_UA =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

/** Headless Debian Chromium, never a downloaded browser. */
export function launch(options = {}) {
  return chromium.launch({
    ...options,
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Beacons sent while a page is torn down do not get Playwright's per-page override, and
      // "HeadlessChrome" is on the bot list the collector drops: the whole browser says desktop Chrome.
      `--user-agent=${DESKTOP_UA}`,
    ],
  });
}

/**
 * Runs SQL on the local D1 the worker uses; returns the rows. The running worker holds the same SQLite
 * file, so a statement can meet "database is locked"; the suite's SQL is idempotent (INSERT OR IGNORE,
 * SELECT), so a failed try is made again, and the last failure is thrown with what wrangler printed.
 */
export function d1(sql) {
  let last;
  for (let attempt = 0; attempt < 6; attempt++) {
    try {
      const out = execFileSync(
        resolve(ROOT, "node_modules/.bin/wrangler"),
        ["d1", "execute", "DB", "--local", "--persist-to", STATE, "--json", "--command", sql],
        { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 30, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
      );
      return JSON.parse(out).flatMap((r) => r.results ?? []);
    } catch (e) {
      last = e;
      e.message += `\n${e.stderr ?? ""}${e.stdout ?? ""}`;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200 * (attempt + 1));
    }
  }
  throw last;
}

/**
 * fetch, once more when the first try failed on a reused keep-alive socket that the server had
 * already closed (undici's "other side closed"): that request never reached the worker.
 */
export async function request(url, init) {
  try {
    return await fetch(url, init);
  } catch (e) {
    const code = e?.cause?.code;
    if (code !== "UND_ERR_SOCKET" && code !== "ECONNRESET") throw e;
    return fetch(url, init);
  }
}

/**
 * Sends generated requests (tests/traffic/generate.mjs) to the collector, `lanes` at a time in
 * order, as many browsers would; throws on any answer but 202. Sums what the collector answered.
 */
export async function replay(requests, lanes = 8) {
  let next = 0;
  const answers = { accepted: 0, dropped: 0, bot: 0 };
  async function lane() {
    while (next < requests.length) {
      const r = requests[next++];
      const res = await request(`${BASE}/api/collect`, {
        method: "POST",
        headers: { "Content-Type": "text/plain", Authorization: `Bearer write-${r.site}`, ...r.headers },
        body: JSON.stringify(r.body),
      });
      const body = await res.json();
      if (res.status !== 202) throw new Error(`collect answered ${res.status}: ${JSON.stringify(body)}`);
      answers.accepted += body.accepted;
      answers.dropped += body.dropped;
      answers.bot += body.reasons.bot ?? 0;
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane));
  return answers;
}

/** POSTs a body to the collector, from a page on `ORIGIN` unless `headers` say otherwise. */
export async function collect(body, { type = "text/plain", headers = {} } = {}) {
  const res = await request(`${BASE}/api/collect`, {
    method: "POST",
    headers: { "Content-Type": type, "User-Agent": DESKTOP_UA, Origin: ORIGIN, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * The tests' default period: the last 7 days, so that a test whose events were stamped just
 * before midnight (UTC, the test sites' zone) still finds them when it reads just after.
 */
export const RECENT = "period=7d";
/** Exactly the UTC day of `ts` (an hourly series of that day, say), whenever it is read. */
export const dayOf = (ts) => {
  const d = new Date(ts).toISOString().slice(0, 10);
  return `period=custom&from=${d}&to=${d}`;
};

/** GETs a stats report for `site` (the demo token unless told). */
export async function stats(site, report, query = RECENT, token = TOKEN) {
  const res = await request(`${BASE}/api/sites/${site}/stats/${report}?${query}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: await res.json() };
}

/** Polls `probe` until it returns a truthy value, or fails after `ms`. */
export async function eventually(probe, ms = 15000, what = "condition") {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

/**
 * Waits until site `site` has at least `n` stored events (the collector answers once events are
 * queued; the queue consumer stores them a moment later), and returns the count.
 */
export function storedEvents(site, n, ms = 20000) {
  return eventually(() => {
    const count = d1(`SELECT COUNT(*) AS n FROM events WHERE site_id = '${site}'`)[0].n;
    return count >= n && count;
  }, ms, `${n} stored events of ${site}`);
}

/**
 * Reads `probe` until two reads 2.5 s apart (longer than the queue's batch timeout) agree: the
 * queue has delivered what was sent before, and the value is a stable baseline.
 */
export async function settled(probe, ms = 30000) {
  let last = JSON.stringify(await probe());
  return eventually(async () => {
    await new Promise((r) => setTimeout(r, 2500));
    const now = JSON.stringify(await probe());
    const same = now === last;
    last = now;
    return same && JSON.parse(now);
  }, ms, "a settled value");
}

let counter = 0;
/** A wire-valid unique id. */
export const uid = (prefix = "e") => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/** One wire-v1 event. */
export const event = (over = {}) => ({
  id: uid(),
  ts: Date.now(),
  name: "pageview",
  url: "http://localhost/",
  ...over,
});

/** A wire-v1 beacon for `site`. */
export const beacon = (site, events, over = {}) => ({ v: 1, site, visitor_id: uid("v"), session_id: uid("s"), events, ...over });

export const ADMIN_TOKEN = process.env.SIGHTLINE_ADMIN_TOKEN ?? "";

/** Calls the admin API. */
export async function admin(method, path, body, token = ADMIN_TOKEN) {
  const res = await request(`${BASE}/api/admin/${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * Creates (or keeps) a site for one test file through the admin API, with `TOKEN` as its read token
 * and `write-${id}` as its write token.
 */
export async function createSite(id, domains = ["localhost", "127.0.0.1"], settings = {}) {
  const tenant = await admin("POST", "tenants", { id: "tests", name: "Tests" });
  assert.ok([201, 409].includes(tenant.status), JSON.stringify(tenant));
  const site = await admin("POST", "sites", {
    id,
    tenant: "tests",
    domains,
    read_token: TOKEN,
    write_token: `write-${id}`.slice(0, 128),
    ...settings,
  });
  assert.ok([201, 409].includes(site.status), JSON.stringify(site));
  return id;
}

/**
 * Calls a site's API (`/api/sites/{site}/{path}`) with `token` as bearer (none when empty); a body
 * that is not a string is sent as JSON. Answers the status, the JSON body and the headers.
 */
export async function siteApi(method, site, path, { body, token = "", headers = {} } = {}) {
  const res = await request(`${BASE}/api/sites/${site}/${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { unparsed: text.slice(0, 500) };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** POSTs a Stats API v2 query (`/api/v2/query`) with `token` as bearer (none when empty). */
export async function v2query(body, token = TOKEN, headers = {}) {
  const res = await request(`${BASE}/api/v2/query`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { unparsed: text.slice(0, 500) };
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
