export interface InitOptions {
  /** The site id, as created in Sightline (e.g. "demo"). */
  site: string;
  /** The collector's origin, e.g. "https://stats.example.com". Defaults to the SDK's own origin. */
  endpoint?: string;
  /** "strict" stores nothing in the browser; the collector then counts by a daily-salted hash. */
  privacy?: "default" | "strict";
  /** Start in strict mode and store ids only after `consent(true)`. */
  requireConsent?: boolean;
  /** Where the SDK runs; events from "admin" and "instructor" surfaces carry `is_internal: true`. */
  surface?: "storefront" | "admin" | "instructor";
  /** Send the first pageview and one per SPA navigation automatically (default true). */
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
/** The visitor's consent: `true` lets the SDK store ids; `false` wipes them and stays strict. */
export function consent(granted: boolean): void;
/** Stops all tracking in this browser (remembered) and wipes what the SDK stored. */
export function optOut(): void;
/** Names the signed-in user with the site's internal id; emails and phone numbers are refused. */
export function identify(userId: string): void;
/** Logout: forgets the user id and starts a new session. */
export function reset(): void;
