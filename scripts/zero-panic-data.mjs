// Zeroes the panic-message data the linker leaves in the SDK's wasm: ~0.3 KB of its gzip size.
// Usage: node scripts/zero-panic-data.mjs <file.wasm>   (rewrites the file in place)
//
// Why by hand: the SDK's panic handler traps without reading its message (see sightline_core's
// `panic`), and the wasm never formats text with `core::fmt`, yet `alloc`'s error paths still
// hand a message and a source location to that handler, so the linker keeps their bytes: Rust
// source paths, `alloc`'s two panic messages, and the 200-byte table of digit pairs integer
// formatting reads. Nothing else reads them; stable Rust has no switch to leave them out (the
// nightly `panic_immediate_abort` does), and no tool zeroes data in place (wasm-snip and
// binaryen remove functions, not bytes of a segment). Zeroed bytes compress to almost nothing.
// Only bytes inside data segments are touched; the script prints what it zeroed.
import { readFileSync, writeFileSync } from "node:fs";

const file = process.argv[2];
const wasm = readFileSync(file);

/** Reads an unsigned LEB128 at `at`: [value, next offset]. */
function leb(at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = wasm[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, at];
    shift += 7;
  }
}

/** [start, end) of each data segment's bytes. */
function segments() {
  const out = [];
  let at = 8; // magic and version
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, body] = leb(at + 1);
    if (id === 11) {
      let [count, p] = leb(body);
      while (count--) {
        let flags;
        [flags, p] = leb(p);
        if (flags === 2) [, p] = leb(p); // memory index
        if (flags !== 1) {
          while (wasm[p] !== 0x0b) p++; // the offset expression (constants only here)
          p++;
        }
        let length;
        [length, p] = leb(p);
        out.push([p, p + length]);
        p += length;
      }
    }
    at = body + size;
  }
  return out;
}

const DIGIT_PAIRS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0")).join("");
const PATTERNS = [
  ["Rust source paths", /\/rustc\/[0-9a-f]{40}\/library\/[A-Za-z0-9_/]+\.rs/g],
  ["alloc's panic messages", /memory allocation of | bytes failed|capacity overflow/g],
  ["integer formatting's digit pairs", new RegExp(DIGIT_PAIRS, "g")],
];

let total = 0;
for (const [start, end] of segments()) {
  const text = wasm.subarray(start, end).toString("latin1");
  for (const [what, pattern] of PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      wasm.fill(0, start + m.index, start + m.index + m[0].length);
      total += m[0].length;
      console.log(`  zeroed ${m[0].length} bytes: ${what}`);
    }
  }
}
writeFileSync(file, wasm);
console.log(`  ${file}: ${total} bytes of panic data zeroed`);
