// @sightline/sdk: the hand-written entry. It queues calls until the wasm is ready, so page code never
// awaits anything; all tracking logic lives in the wasm (../src/*.rs). Errors never reach the page.
// Every call made before the wasm is ready is queued, in order, with its page URL, time and a fresh
// event id, and replayed by the wasm's `start` before it sends anything (so an early optOut(),
// consent(false), identify() or reset() holds for the first pageview). If the page goes away first,
// the queue is saved and the next page replays it before its own (ids make a replay count once);
// an optOut() is also stored at once, so it holds on the next page and without wasm too.
// The wasm reaches the page through the dozen imports below (no wasm-bindgen): page values live in
// `H` and the wasm names them by index; a call frees the values it made when it returns (`run`),
// and the few the wasm keeps longer are pinned in `P` (negative indexes). See ../src/browser.rs.

const SAVED = "sl_queue";
// The wasm's opt-out flag (see ../src/tracker.rs), which an early optOut() stores itself.
const OPTED_OUT = "sl_optout";
const queue = [];
let state = 0; // 0 idle, 1 loading, 2 ready, 3 failed
let opts = {};
// Mirrors the wasm's strict rule, for the one thing this file stores (the pre-wasm queue).
let strict = false;
// optOut() was called, or an earlier page stored the opt-out.
let out = false;

const eventId = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

let w, thrown, bytes;
const H = [undefined, null, true, false, globalThis];
const P = [];
const KINDS = ["string", "number", "boolean", "object", "function"];
const put = (v) => H.push(v) - 1;
const val = (h) => (h < 0 ? P[~h] : H[h]);
const pin = (v) => -P.push(v);
const view = (p, n) => new Uint8Array(w.memory.buffer, p, n);
const decoder = new TextDecoder();
const text = (p, n) => decoder.decode(view(p, n));
// Runs f (which calls the wasm), then frees the values made meanwhile.
const scope = (f) => {
  const n = H.length;
  try {
    return f();
  } finally {
    H.length = n;
  }
};
const imports = {
  e: {
    g: (o, p, n) => {
      try {
        return put(val(o)[text(p, n)]);
      } catch {
        return 0;
      }
    },
    s: (o, p, n, v) => {
      try {
        val(o)[text(p, n)] = val(v);
      } catch {}
    },
    t: (p, n) => put(text(p, n)),
    n: put,
    k: (h) => (val(h) === null ? -1 : KINDS.indexOf(typeof val(h))),
    v: (h) => +val(h),
    l: (h) => (typeof val(h) == "string" ? (bytes = new TextEncoder().encode(val(h))).length : -1),
    c: (p) => view(p, bytes.length).set(bytes),
    j: (o, i) => put(val(o)[i]),
    a: (f, t, a, b, c) => {
      try {
        return put(val(f).call(val(t), val(a), val(b), val(c)));
      } catch (e) {
        thrown = e;
        return 2147483647;
      }
    },
    o: (f, a) => {
      try {
        return put(new (val(f))(val(a)));
      } catch {
        return 0;
      }
    },
    f: (k, d) => pin((a, b, c) => scope(() => val(w.cb(k, d, put(a), put(b), put(c))))),
    p: (h) => pin(val(h)),
    i: () => put(eventId()),
    r: () => {
      throw thrown;
    },
  },
};

// Runs f; an error goes to the console, never to the page.
function run(f) {
  try {
    scope(f);
  } catch (e) {
    console.warn("[sightline]", e);
  }
}

function call(name, args) {
  if (state === 2) run(() => w[name](...args.map(put)));
  else if (state !== 3) queue.push([name, args, location.href, Date.now(), eventId()]);
}

// Replays the queue in order (saved calls first): `start` calls it before it sends anything. A queued
// call is passed on whole, after its arguments: the wasm keeps its page, time and event id.
const replay = () => {
  for (const c of queue.splice(0)) run(() => w[c[0]](...c[1].map(put), put(c)));
};

function save() {
  if (state === 2 || strict || !queue.length) return;
  run(() => {
    const saved = JSON.parse(localStorage.getItem(SAVED) || "[]");
    localStorage.setItem(SAVED, JSON.stringify(saved.concat(queue.filter((c) => c[0] !== "flush"))));
  });
}

/** Starts tracking and sends the first pageview. See index.d.ts for the options. */
export function init(options = {}) {
  if (state !== 0) return;
  state = 1;
  opts = { endpoint: new URL(import.meta.url).origin, ...options };
  run(() => (out ||= !!localStorage.getItem(OPTED_OUT)));
  strict ||= out || opts.privacy === "strict" || !!opts.requireConsent || navigator.globalPrivacyControl === true || navigator.doNotTrack === "1";
  addEventListener("pagehide", save);
  // Web vitals and auto-capture (404s included) live in a larger build of the same wasm, loaded only
  // when asked for.
  fetch(
    opts.webVitals || opts.autoCapture || opts.notFound
      ? new URL("./wasm/sightline-full.wasm", import.meta.url)
      : new URL("./wasm/sightline.wasm", import.meta.url),
  )
    .then((r) => r.arrayBuffer())
    .then((b) => WebAssembly.instantiate(b, imports))
    .then((m) => {
      w = m.instance.exports;
      state = 2;
      run(() => {
        const saved = localStorage.getItem(SAVED);
        localStorage.removeItem(SAVED);
        queue.unshift(...JSON.parse(saved || "[]"));
      });
      // Strict from the start after an early consent(false): no id is made only to be wiped.
      run(() => w.start(put({ ...opts, requireConsent: strict }), put(replay)));
    })
    .catch((e) => {
      state = 3;
      queue.length = 0;
      console.warn("[sightline] wasm is not allowed or failed to load; sending pageviews only:", e);
      if (opts.autoPageview !== false && !out) pageviewWithoutWasm();
    });
}

// Without wasm (a CSP without 'wasm-unsafe-eval', or a failed load) the page is still counted: one
// wire-v1 pageview with no ids (the collector counts it like strict mode), the path only (no query,
// no fragment; the collector scrubs the path again) and the referrer's origin only. Never after an
// opt-out.
function pageviewWithoutWasm() {
  let referrer;
  try {
    referrer = document.referrer && new URL(document.referrer).origin + "/";
  } catch {}
  const event = { id: eventId(), ts: Date.now(), name: "pageview", url: location.origin + location.pathname, referrer };
  navigator.sendBeacon(opts.endpoint.replace(/\/$/, "") + "/api/collect", JSON.stringify({ v: 1, site: opts.site, events: [event] }));
}

/** Records a pageview of the current page, or of `{ path, referrer }`. */
export const trackPageview = (options) => call("trackPageview", [options]);
/** Records a custom event with optional props (strings, numbers, booleans). */
export const trackEvent = (name, props) => call("trackEvent", [String(name), props]);
/** Sends pending events now. */
export const flush = () => call("flush", []);
/** The visitor's consent: `true` lets the SDK store ids, `false` wipes them (strict mode). */
export const consent = (granted) => {
  strict = !granted || out || opts.privacy === "strict";
  call("consent", [!!granted]);
};
/** Stops all tracking in this browser and wipes what the SDK stored. */
export const optOut = () => {
  out = strict = true;
  queue.length = 0; // an opt-out wins over what was queued before it
  run(() => localStorage.setItem(OPTED_OUT, "1"));
  call("optOut", []);
};
/** Names the signed-in user with the site's internal id (never an email or phone number). */
export const identify = (userId) => call("identify", [String(userId)]);
/** Logout: forgets the user id and starts a new session. */
export const reset = () => call("reset", []);
