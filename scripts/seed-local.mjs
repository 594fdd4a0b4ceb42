// Seeds the local development site into the LOCAL D1 only (never a deploy): site `demo`, domains
// localhost and 127.0.0.1, read token `dev-demo-token` and write token `dev-demo-write-token` (for
// server-side events; each stored as its SHA-256, like every token).
// Usage: node scripts/seed-local.mjs [--persist-to DIR]
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";

const persist = process.argv.includes("--persist-to")
  ? ["--persist-to", process.argv[process.argv.indexOf("--persist-to") + 1]]
  : [];
export const DEMO = { site: "demo", token: "dev-demo-token", writeToken: "dev-demo-write-token", domains: ["localhost", "127.0.0.1"] };

const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const tokenHash = sha256(DEMO.token);
const now = Date.now();
const sql = [
  `INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES ('local', 'Local development', ${now});`,
  `INSERT OR IGNORE INTO sites (id, tenant_id, read_token_hash, created_at) VALUES ('${DEMO.site}', 'local', '${tokenHash}', ${now});`,
  // A demo site seeded before it had one gets its write token too.
  `UPDATE sites SET write_token_hash = '${sha256(DEMO.writeToken)}' WHERE id = '${DEMO.site}' AND write_token_hash IS NULL;`,
  ...DEMO.domains.map(
    (d) => `INSERT OR IGNORE INTO site_domains (site_id, domain) VALUES ('${DEMO.site}', '${d}');`,
  ),
].join("\n");

execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--local", ...persist, "--command", sql], {
  stdio: ["ignore", "ignore", "inherit"],
});
