// A design probe for the query engine's open floors (issue 10), beside bench/probe-blocks.mjs: how
// small a day of the busy site's columns gets with deflate (which a worker undoes natively, with
// `DecompressionStream`), and so how long 30 days of them take to read and inflate. The columns
// are drawn from seeded distributions shaped like core/examples/busy_site.rs' traffic (100 000
// events a day, ~30 000 visits, ~2 200 pages of Zipf popularity), each value in the plainest
// fixed-width code; deflate finds the rest. Usage: node bench/probe-columns.mjs
import { deflateSync, inflateSync } from "node:zlib";

let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
const pick = (weights) => {
  let r = rand() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) if ((r -= weights[i]) < 0) return i;
  return weights.length - 1;
};
const PAGES = 2200;
const zipf = Array.from({ length: PAGES }, (_, i) => 1 / (i + 1));
const cumulative = zipf.map(((s) => (w) => (s += w))(0));
const page = () => {
  const r = rand() * cumulative[PAGES - 1];
  let lo = 0;
  let hi = PAGES - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** One day: visits (visitor index, device, source, country, events) and events (page, name, second). */
function day() {
  const visits = { visitor: [], device: [], source: [], country: [], runs: [] };
  const events = { page: [], name: [], second: [] };
  let visitor = 0;
  while (events.page.length < 100_000) {
    if (rand() < 0.75) visitor++; // a quarter of visits are a visitor's second or later
    const n = 1 + Math.floor(-Math.log(1 - rand()) * 2.3);
    visits.visitor.push(visitor);
    visits.device.push(pick([55, 40, 5]));
    visits.source.push(pick([40, 25, 10, 8, 5, 4, 3, 2, 1, 1, 1]));
    visits.country.push(Math.min(39, Math.floor(-Math.log(1 - rand()) * 6)));
    visits.runs.push(Math.min(255, n));
    let second = Math.floor(rand() * 86_000);
    for (let i = 0; i < Math.min(255, n); i++) {
      events.page.push(page());
      events.name.push(pick([55, 20, 12, 5, 3, 2, 1, 1, 1]));
      events.second.push(Math.min(86_399, second));
      second += Math.floor(-Math.log(1 - rand()) * 40);
    }
  }
  return { visits, events };
}

const widths = { visitor: 3, device: 1, source: 1, country: 1, runs: 1, page: 2, name: 1, second: 3 };
function bytes(name, values, delta = false) {
  const w = widths[name];
  const out = Buffer.alloc(values.length * w);
  let prev = 0;
  values.forEach((v, i) => {
    const x = delta ? v - prev : v; // visitor ids and seconds rise: their differences are small
    prev = v;
    for (let b = 0; b < w; b++) out[i * w + b] = (x >>> (8 * b)) & 0xff;
  });
  return out;
}

const d = day();
const columns = {
  visitor: bytes("visitor", d.visits.visitor, true),
  device: bytes("device", d.visits.device),
  source: bytes("source", d.visits.source),
  country: bytes("country", d.visits.country),
  runs: bytes("runs", d.visits.runs),
  page: bytes("page", d.events.page),
  name: bytes("name", d.events.name),
  second: bytes("second", d.events.second, true),
};
console.log(`one day: ${d.visits.runs.length} visits, ${d.events.page.length} events`);
console.log(`${"column".padEnd(9)} ${"plain".padStart(9)} ${"deflated".padStart(9)} ${"base64".padStart(9)}`);
const sized = {};
for (const [name, raw] of Object.entries(columns)) {
  const packed = deflateSync(raw, { level: 9 });
  sized[name] = { raw, packed, text: packed.toString("base64").length };
  console.log(`${name.padEnd(9)} ${String(raw.length).padStart(9)} ${String(packed.length).padStart(9)} ${String(sized[name].text).padStart(9)}`);
}
const READ_MB_S = 55; // bench/probe-blocks.mjs: base64 TEXT through local D1
for (const [query, cols] of [
  ["filtered breakdown", ["device", "runs", "visitor", "page", "name"]],
  ["4-step funnel", ["runs", "visitor", "page", "name", "second"]],
]) {
  const text = cols.reduce((s, c) => s + sized[c].text, 0) * 30;
  const t = performance.now();
  for (let i = 0; i < 30; i++) for (const c of cols) inflateSync(Buffer.from(sized[c].packed.toString("base64"), "base64"));
  const inflate = performance.now() - t;
  console.log(`${query}, 30 days: ${(text / 1e6).toFixed(2)} MB of base64 text ≈ ${((text / 1e6 / READ_MB_S) * 1000).toFixed(0)} ms to read at ${READ_MB_S} MB/s, ${inflate.toFixed(0)} ms to decode and inflate (Node, one core)`);
}
