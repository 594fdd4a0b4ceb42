// Seeds the local development site into the LOCAL D1 only (never a deploy): site `demo`, domains
// localhost and 127.0.0.1, read token `dev-demo-token` (stored as its SHA-256, like every token).
// Usage: node scripts/seed-local.mjs [--persist-to DIR]
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";

const persist = process.argv.includes("--persist-to")
  ? ["--persist-to", process.argv[process.argv.indexOf("--persist-to") + 1]]
  : [];
export const DEMO = { site: "demo", token: "dev-demo-token", domains: ["localhost", "127.0.0.1"] };

const tokenHash = createHash("sha256").update(DEMO.token).digest("hex");
const now = Date.now();
const sql = [
  `INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES ('local', 'Local development', ${now});`,
  `INSERT OR IGNORE INTO sites (id, tenant_id, read_token_hash, created_at) VALUES ('${DEMO.site}', 'local', '${tokenHash}', ${now});`,
  ...DEMO.domains.map(
    (d) => `INSERT OR IGNORE INTO site_domains (site_id, domain) VALUES ('${DEMO.site}', '${d}');`,
  ),
].join("\n");

execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--local", ...persist, "--command", sql], {
  stdio: ["ignore", "ignore", "inherit"],
});
