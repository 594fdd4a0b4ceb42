// In the hosted /sightline.js (./loader.js and ./index.js bundled into one classic script, see
// scripts/build.sh) this stands for the wrapper's `import.meta.url`: the versioned SDK copy beside
// the script, whose wasm the wrapper fetches (the script is short-lived in caches, the copy is
// immutable, so a cached script always finds the wasm it was built with).
const script = document.currentScript;
export const sdkUrl = script && new URL(`sdk/${SDK_VERSION}/index.js`, script.src).href;
