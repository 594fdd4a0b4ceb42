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
  /** Record outbound link clicks, file downloads, form submits (never field values), scroll depth
   * and engaged time (when the page is hidden), and uncaught JS errors (message only). */
  autoCapture?: boolean;
  /** Measure LCP, INP, CLS, FCP and TTFB (the semantics of Google's `web-vitals`) and send each as
   * a `web_vital` event `{ metric, value, rating }`; LCP, CLS and INP when the page is hidden. */
  webVitals?: boolean;
  /** This page is the site's 404 page: also sends a `404` event with its path. */
  notFound?: boolean;
  /** Count `#/route` changes as pages (hash-routed single-page apps). */
  hashRouting?: boolean;
  /** Query parameters to keep in URLs besides utm_*, ref, source, gclid, fbclid, msclkid. */
  queryAllowlist?: string[];
  /** Sees every event before it is queued: return it (changed or not) to send it, null to drop it. */
  beforeSend?: (event: SentEvent) => SentEvent | null;
}

export type Props = Record<string, string | number | boolean>;

/** An event as it goes on the wire (see docs/PROTOCOL.md). */
export interface SentEvent {
  id: string;
  ts: number;
  name: string;
  url: string;
  referrer?: string;
  props?: Props;
}

type Commerce = { order_id: string; value: number; currency: string; items?: number };

/** The events storefronts and SaaS apps send, with the props reports use. Any other name works too. */
export interface EventCatalog {
  // conversions
  booking_completed: { order_id?: string; value?: number; currency?: string };
  checkout_completed: Commerce;
  purchase: Commerce;
  signup_completed: { plan?: string; method?: string };
  login_completed: { method?: string };
  // funnel
  course_view: { course_id: string };
  schedule_view: { course_id?: string };
  product_view: { sku: string; price?: number; currency?: string };
  cart_add: { sku: string; price?: number; currency?: string; quantity?: number };
  checkout_started: { items?: number; value?: number; currency?: string };
  booking_started: { course_id?: string };
  waitlist_join: { course_id?: string };
  // engagement (search terms are lower-cased, trimmed and cut to 100 characters)
  search: { term: string; results?: number };
  filter_applied: { filter: string; value?: string };
  discount_applied: { discount_code: string; value?: number };
  discount_code_failed: { discount_code: string; reason?: string };
  contact_submit: { form?: string };
  // friction
  payment_failed: { reason?: string; provider?: string };
  booking_blocked_prereq: { course_id?: string; prerequisite?: string };
  out_of_stock: { sku: string };
  // lifecycle
  enrollment_cancelled: { actor: "customer" | "admin"; course_id?: string };
  // staff (always sent with is_internal: true)
  "admin:course_created": { course_id?: string };
  "admin:invoice_sent": { invoice_id?: string };
  "admin:order_refunded": { order_id?: string; value?: number; currency?: string };
  "instructor:session_marked_complete": { session_id?: string };
  // SaaS
  "lead.created": { source?: string };
  "form.submit": { form?: string };
  "automation.run": { automation?: string; status?: string };
  "ai.usage": { tokens: number; model?: string };
  "export.completed": { format?: string; rows?: number };
}

/** Starts tracking and sends the first pageview. Safe to call before the wasm has loaded. */
export function init(options: InitOptions): void;
/** Records a pageview of the current page, or of the given path/referrer. */
export function trackPageview(options?: { path?: string; referrer?: string }): void;
/** Records a catalog event, its props checked by TypeScript. */
export function trackEvent<K extends keyof EventCatalog>(name: K, props: EventCatalog[K] & Props): void;
/** Records a custom event. Props that are not strings, numbers or booleans, or that look like PII,
 * are dropped with a console warning. */
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
