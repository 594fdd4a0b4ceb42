// `npm run site -- <command>`: manage tenants and sites through the admin API, for humans.
//   tenant <id> [--name "Acme Inc"]            make a tenant
//   tenants                                    list tenants
//   tenant-token <id>                          a new token for the tenant (shown once): its sites' exports and erasures
//   create <id> --tenant <t> --domain <host> [--domain <host>…] [--timezone Europe/Berlin]
//          [--retention <days>] [--aggregate-retention <days>] [--ga4 G-…] [--umami <uuid>]
//                                              make a site; prints its read and write tokens (once)
//   show <id>                                  print a site's settings
//   update <id> [--domain …] [--timezone …] [--retention …] [--active true|false]
//          [--forward '<JSON>']              e.g. '{"ga4":{"mode":"server"},"umami":{"mode":"all","page_events":["pageview"]}}'
//                                              (docs/INTEGRATIONS.md; create takes it too)
//   forward-replay [<id>]                      forwards to GA4/Umami given up, sent again (all sites, or one)
//   rotate <id>                                new read and write tokens
//   delete <id>                                erase the site and all its data
//   dead-letters                               what the dead-letter queue kept (`npm run dead-letters`)
//   dead-letters replay                        send the oldest 100 kept back to be stored (exactly once)
//   segments <id>                              list a site's saved segments
//   segment <id> --name <n> --filters '<JSON filter list>'     save one (Stats API v2 filters)
//   funnels <id>                               list a site's saved funnels
//   funnel <id> --name <n> --steps '<JSON steps>' [--hours <1–24>]   save one (steps: {page} or {event})
//   unsave <id> segments|funnels <n>           delete saved segment or funnel number n
//   query <id> '<JSON query>'                  ask the Stats API v2 (`site_id` filled in), e.g.
//          '{"metrics":["visitors"],"date_range":"7d","dimensions":["visit:source"]}'
// The worker is SIGHTLINE_URL (default http://127.0.0.1:8787); the token is ADMIN_TOKEN, or the one in
// .dev.vars that `npm start` wrote.
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: "string" },
    name: { type: "string" },
    domain: { type: "string", multiple: true },
    timezone: { type: "string" },
    retention: { type: "string" },
    "aggregate-retention": { type: "string" },
    ga4: { type: "string" },
    umami: { type: "string" },
    forward: { type: "string" },
    active: { type: "string" },
    filters: { type: "string" },
    steps: { type: "string" },
    hours: { type: "string" },
  },
});
const base = process.env.SIGHTLINE_URL ?? `http://127.0.0.1:${process.env.PORT ?? 8787}`;
const fromDevVars = existsSync(".dev.vars")
  ? readFileSync(".dev.vars", "utf8").match(/^ADMIN_TOKEN=(.*)$/m)?.[1]?.trim()
  : undefined;
const token = process.env.ADMIN_TOKEN ?? fromDevVars;
if (!token) {
  console.error("set ADMIN_TOKEN (the worker's admin secret), or run `npm start` once to make .dev.vars");
  process.exit(2);
}

const settings = () => ({
  ...(values.domain ? { domains: values.domain } : {}),
  ...(values.timezone ? { timezone: values.timezone } : {}),
  ...(values.retention ? { retention_days: Number(values.retention) } : {}),
  ...(values["aggregate-retention"] ? { aggregate_retention_days: Number(values["aggregate-retention"]) } : {}),
  ...(values.ga4 ? { ga4_measurement_id: values.ga4 } : {}),
  ...(values.umami ? { umami_website_id: values.umami } : {}),
  ...(values.forward ? { forwarding: json(values.forward, "--forward") } : {}),
  ...(values.active ? { active: values.active === "true" } : {}),
});

const [command, id, ...rest] = positionals;
const json = (text, what) => {
  try {
    return JSON.parse(text ?? "");
  } catch {
    console.error(`${what}: not JSON: ${text}`);
    process.exit(2);
  }
};
const admin = (path) => `/api/admin/${path}`;
const calls = {
  tenant: () => ["POST", admin("tenants"), { id, ...(values.name ? { name: values.name } : {}) }],
  tenants: () => ["GET", admin("tenants")],
  "tenant-token": () => ["POST", admin(`tenants/${id}/token`)],
  create: () => ["POST", admin("sites"), { id, tenant: values.tenant, ...settings() }],
  show: () => ["GET", admin(`sites/${id}`)],
  update: () => ["PATCH", admin(`sites/${id}`), settings()],
  rotate: () => ["POST", admin(`sites/${id}/tokens`)],
  delete: () => ["DELETE", admin(`sites/${id}`)],
  "forward-replay": () => ["POST", admin(`forward/replay${id ? `?site=${encodeURIComponent(id)}` : ""}`)],
  "dead-letters": () => (id === "replay" ? ["POST", admin("dead-letters/replay")] : ["GET", admin("dead-letters")]),
  segments: () => ["GET", `/api/sites/${id}/segments`],
  segment: () => ["POST", `/api/sites/${id}/segments`, { name: values.name, filters: json(values.filters, "--filters") }],
  funnels: () => ["GET", `/api/sites/${id}/funnels`],
  funnel: () => [
    "POST",
    `/api/sites/${id}/funnels`,
    { name: values.name, steps: json(values.steps, "--steps"), ...(values.hours ? { within: { hours: Number(values.hours) } } : {}) },
  ],
  unsave: () => ["DELETE", `/api/sites/${id}/${rest[0]}/${rest[1]}`],
  query: () => ["POST", "/api/v2/query", { ...json(rest[0], "the query"), site_id: id }],
};
if (!calls[command] || (!["tenants", "dead-letters", "forward-replay"].includes(command) && !id)) {
  console.error(readFileSync(new URL(import.meta.url), "utf8").split("\n").filter((l) => l.startsWith("//")).join("\n"));
  process.exit(2);
}
const [method, path, body] = calls[command]();
const res = await fetch(`${base}${path}`, {
  method,
  headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
  body: body === undefined ? undefined : JSON.stringify(body),
}).catch((e) => {
  console.error(`cannot reach ${base}: ${e.cause?.code ?? e.message} (is \`npm start\` running?)`);
  process.exit(1);
});
console.log(JSON.stringify(await res.json(), null, 2));
process.exit(res.ok ? 0 : 1);
