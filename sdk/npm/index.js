// @sightline/sdk: the hand-written entry. It queues calls until the wasm is ready, so page code never
// awaits anything; all tracking logic lives in the wasm (../src/*.rs). Errors never reach the page.
import loadWasm, * as wasm from "./wasm/sightline_sdk.js";

const queue = [];
let state = 0; // 0 idle, 1 loading, 2 ready, 3 failed

function call(name, args) {
  if (state === 2) {
    try {
      wasm[name](...args);
    } catch (e) {
      console.warn("[sightline]", e);
    }
  } else if (state !== 3) {
    queue.push([name, args]);
  }
}

/** Starts tracking and sends the first pageview. See index.d.ts for the options. */
export function init(options = {}) {
  if (state !== 0) return;
  state = 1;
  const opts = { endpoint: new URL(import.meta.url).origin, ...options };
  loadWasm()
    .then(() => {
      state = 2;
      call("start", [opts]);
      for (const [name, args] of queue.splice(0)) call(name, args);
    })
    .catch((e) => {
      state = 3;
      queue.length = 0;
      console.warn("[sightline] could not load the tracker:", e);
    });
}

/** Records a pageview of the current page, or of `{ path, referrer }`. */
export const trackPageview = (options) => call("trackPageview", [options]);
/** Records a custom event with optional props (strings, numbers, booleans). */
export const trackEvent = (name, props) => call("trackEvent", [String(name), props]);
/** Sends pending events now. */
export const flush = () => call("flush", []);
