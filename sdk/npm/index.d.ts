export interface InitOptions {
  /** The site id, as created in Sightline (e.g. "demo"). */
  site: string;
  /** The collector's origin, e.g. "https://stats.example.com". Defaults to the SDK's own origin. */
  endpoint?: string;
  /** "strict" stores nothing in the browser; the collector then counts by a daily-salted hash. */
  privacy?: "default" | "strict";
  /** Send the first pageview automatically (default true). */
  autoPageview?: boolean;
}

export type Props = Record<string, string | number | boolean>;

/** Starts tracking and sends the first pageview. Safe to call before the wasm has loaded. */
export function init(options: InitOptions): void;
/** Records a pageview of the current page, or of the given path/referrer. */
export function trackPageview(options?: { path?: string; referrer?: string }): void;
/** Records a custom event. */
export function trackEvent(name: string, props?: Props): void;
/** Sends pending events now. */
export function flush(): void;
