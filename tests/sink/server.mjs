// A local recording sink standing in for Google Analytics 4 (Measurement Protocol) and Umami, which
// cannot run here: `npm test` starts it and points the worker at it (GA4_ENDPOINT, UMAMI_HOST). It
// checks every payload against the rules of each protocol and of Sightline's privacy, written here
// again from their documentation (not from the worker's code), records what it received with what
// it found wrong, and can be told to fail for a while.
//
//   POST /ga4/mp/collect?measurement_id&api_secret   GA4's Measurement Protocol (answers 204)
//   POST /umami/api/batch                            Umami's batch endpoint (answers 200)
//   POST /umami/api/send                             Umami's one-event endpoint (answers 200)
//   GET  /recorded                                   every request: {target, query, ua, body, violations}
//   POST /control {"fail": n, "status": s}           the next n deliveries answer s (503 unless told)
//   POST /control {"umami_batch": false}             /umami/api/batch answers 404, as an Umami
//                                                    older than it does (until /reset or true)
//   POST /reset                                      forgets what it recorded and any failure to come
//
// Usage: node tests/sink/server.mjs PORT
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 8801);

const GA4_RESERVED_EVENTS = new Set([
  "ad_activeview", "ad_click", "ad_exposure", "ad_impression", "ad_query", "ad_reward", "adunit_exposure",
  "app_background", "app_clear_data", "app_exception", "app_install", "app_remove", "app_store_refund",
  "app_store_subscription_cancel", "app_store_subscription_convert", "app_store_subscription_renew",
  "app_update", "app_upgrade", "dynamic_link_app_open", "dynamic_link_app_update", "dynamic_link_first_open",
  "error", "firebase_campaign", "first_open", "first_visit", "in_app_purchase", "notification_dismiss",
  "notification_foreground", "notification_open", "notification_receive", "os_update", "screen_view",
  "session_start", "session_start_with_rollout", "user_engagement",
]);
const GA4_RESERVED_PREFIXES = ["_", "firebase_", "ga_", "google_", "gtag."];
const GA4_BODY_KEYS = new Set(["client_id", "user_id", "timestamp_micros", "user_properties", "consent", "non_personalized_ads", "events", "user_data", "user_location", "device", "ip_override"]);
const GA4_LONG_VALUES = { page_location: 1000, page_referrer: 420, page_title: 300 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Luhn's check, which every payment card number passes. */
function luhn(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** Every text value in `value` with the key it sits under. */
function* texts(value, key = "") {
  if (typeof value === "string") yield [key, value];
  else if (Array.isArray(value)) for (const v of value) yield* texts(v, key);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) {
    yield [k, k];
    yield* texts(v, k);
  }
}

/** What no forwarded payload may hold: contact details, addresses, agents, secrets, names. */
function privacyViolations(body) {
  const found = new Set();
  for (const [key, text] of texts(body)) {
    // Visitor keys are hex hashes; their digit runs are no card numbers.
    if (key === "client_id" || key === "id") continue;
    if (/[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}/.test(text)) found.add("an email address");
    if (/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/.test(text)) found.add("an IPv4 address");
    if (/\+\d[\d ()-]{7,}\d/.test(text)) found.add("a phone number");
    for (const run of text.match(/(?:\d[ -]?){13,19}/g) ?? []) if (luhn(run.replace(/\D/g, ""))) found.add("a card number");
    if (/Mozilla\/|HeadlessChrome|AppleWebKit/.test(text)) found.add("a user agent");
    if (/^(ip|ua|ip_override)$|ip.?address|user.?agent|(first|last|full|given|family|customer|user).?name|address|e.?mail|phone/i.test(text) && !/^(item|page)_name$/.test(text))
      found.add(`a personal field (${text})`);
    if (/secret|password|token/i.test(text)) found.add("a secret-like word");
  }
  return [...found];
}

const ga4Name = (name) => typeof name === "string" && /^[A-Za-z][A-Za-z0-9_]*$/.test(name) && name.length <= 40 &&
  !GA4_RESERVED_PREFIXES.some((p) => name.startsWith(p));

function ga4Violations(query, body) {
  const v = [];
  if (!/^G-[A-Z0-9]+$/.test(query.get("measurement_id") ?? "")) v.push("measurement_id missing or malformed");
  if (!query.get("api_secret")) v.push("api_secret missing");
  if (typeof body !== "object" || body === null || Array.isArray(body)) return [...v, "body is not an object"];
  for (const key of Object.keys(body)) if (!GA4_BODY_KEYS.has(key)) v.push(`unknown body key ${key}`);
  if (typeof body.client_id !== "string" || !body.client_id) v.push("client_id missing");
  if ("user_id" in body && (typeof body.user_id !== "string" || !body.user_id || body.user_id.length > 256)) v.push("user_id is not a short string");
  if ("ip_override" in body || "user_agent" in body) v.push("forwards an address or agent");
  if (!Array.isArray(body.events) || body.events.length < 1 || body.events.length > 25) return [...v, "events must be 1-25"];
  for (const e of body.events) {
    if (!ga4Name(e.name)) v.push(`event name ${JSON.stringify(e.name)} breaks GA4's rules`);
    if (GA4_RESERVED_EVENTS.has(e.name)) v.push(`reserved event name ${e.name}`);
    const params = e.params ?? {};
    if (Object.keys(params).length > 25) v.push(`${e.name}: more than 25 params`);
    for (const [key, value] of Object.entries(params)) {
      if (!ga4Name(key)) v.push(`${e.name}: param name ${JSON.stringify(key)} breaks GA4's rules`);
      if (key === "items") {
        if (!Array.isArray(value) || value.some((i) => !i.item_id && !i.item_name)) v.push(`${e.name}: items need item_id or item_name`);
        continue;
      }
      if (typeof value === "string") {
        if (value.length > (GA4_LONG_VALUES[key] ?? 100)) v.push(`${e.name}: ${key} longer than allowed`);
      } else if (typeof value !== "number") v.push(`${e.name}: ${key} is neither text nor a number`);
    }
    if (e.name === "purchase" && (!params.transaction_id || typeof params.value !== "number" || !/^[A-Z]{3}$/.test(params.currency ?? "")))
      v.push("purchase without transaction_id, value and currency");
  }
  return v;
}

function umamiViolations(ua, body) {
  const v = [];
  if (!/^Mozilla\/5\.0 \(/.test(ua ?? "")) v.push("User-Agent is not browser-like (Umami drops bots)");
  if (!Array.isArray(body) || body.length < 1) return [...v, "body is not a non-empty array"];
  for (const item of body) {
    if (item?.type !== "event") v.push("type is not event");
    const p = item?.payload ?? {};
    if (!UUID.test(p.website ?? "")) v.push("website is not a UUID");
    if (typeof p.hostname !== "string" || !p.hostname) v.push("hostname missing");
    if (typeof p.url !== "string" || !p.url.startsWith("/")) v.push("url missing");
    if ("name" in p && (typeof p.name !== "string" || p.name.length > 50)) v.push("name longer than 50");
    if ("data" in p && (typeof p.data !== "object" || Array.isArray(p.data))) v.push("data is not an object");
    for (const key of Object.keys(p)) if (!["website", "hostname", "url", "referrer", "name", "data", "id", "timestamp", "title", "language", "screen", "tag"].includes(key)) v.push(`unknown payload key ${key}`);
  }
  return v;
}

let recorded = [];
let failing = { n: 0, status: 503 };
let umamiBatch = true;

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(body === undefined ? "" : JSON.stringify(body));
}

createServer((req, res) => {
  let text = "";
  req.setEncoding("utf8");
  req.on("data", (chunk) => (text += chunk));
  req.on("end", () => {
    const url = new URL(req.url, `http://127.0.0.1:${port}`);
    if (req.method === "GET" && url.pathname === "/recorded") return json(res, 200, recorded);
    if (req.method === "POST" && url.pathname === "/reset") {
      recorded = [];
      failing = { n: 0, status: 503 };
      umamiBatch = true;
      return json(res, 200, {});
    }
    if (req.method === "POST" && url.pathname === "/control") {
      const c = JSON.parse(text || "{}");
      if ("umami_batch" in c) umamiBatch = c.umami_batch;
      else failing = { n: c.fail ?? 0, status: c.status ?? 503 };
      return json(res, 200, { ...failing, umami_batch: umamiBatch });
    }
    const target = url.pathname === "/ga4/mp/collect" ? "ga4" : url.pathname.startsWith("/umami/api/") ? "umami" : null;
    const via = url.pathname.split("/").pop();
    if (req.method !== "POST" || !target || (target === "umami" && !["batch", "send"].includes(via))) return json(res, 404, { error: "not_found" });
    if (target === "umami" && via === "batch" && !umamiBatch) return json(res, 404, { error: "not_found" });
    let body;
    try {
      body = JSON.parse(text);
      // One event at /api/send: recorded as a batch of one, so both read alike.
      if (target === "umami" && via === "send") body = [body];
    } catch {
      body = null;
    }
    const query = url.searchParams;
    const violations = body === null ? ["body is not JSON"] : [
      ...(target === "ga4" ? ga4Violations(query, body) : umamiViolations(req.headers["user-agent"], body)),
      // The API secret rides in GA4's query string, never the body.
      ...privacyViolations(body),
    ];
    const failed = failing.n > 0 ? failing.status : 0;
    if (failed) failing.n -= 1;
    recorded.push({
      target,
      via,
      at: Date.now(),
      query: Object.fromEntries(query),
      ua: req.headers["user-agent"] ?? "",
      body,
      violations,
      answered: failed || (target === "ga4" ? 204 : 200),
    });
    if (failed) return json(res, failed, { error: "sink told to fail" });
    return target === "ga4" ? json(res, 204) : json(res, 200, { ok: true });
  });
}).listen(port, "127.0.0.1", () => console.log(`sink listening on 127.0.0.1:${port}`));
