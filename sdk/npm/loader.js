// Sightline <script> loader, hosted by the collector at /sightline.js:
//   <script src="https://stats.example.com/sightline.js" data-site="demo" defer></script>
// The build bundles this file with the npm wrapper (./index.js) into that one classic script: one
// download and one gzip stream, the wrapper's code not fetched twice (see scripts/build.sh). It
// exposes window.sightline at once (calls made before the wasm is ready are queued by the wrapper)
// and starts tracking with the data-* attributes as options; the wasm comes from the versioned SDK
// copy beside the script (./hosted.js). data-endpoint overrides the collector origin (default: this
// script's origin).
import { consent, flush, identify, init, optOut, reset, trackEvent, trackPageview } from "./index.js";

const script = document.currentScript;
if (script && !window.sightline) {
  window.sightline = { trackEvent, trackPageview, flush, consent, optOut, identify, reset };
  // data-site, data-endpoint, data-privacy, data-surface; the rest are present or not.
  const data = script.dataset;
  const options = { site: data.site, endpoint: data.endpoint || new URL(script.src).origin, privacy: data.privacy, surface: data.surface };
  for (const flag of ["requireConsent", "hashRouting", "autoCapture", "notFound", "webVitals"]) options[flag] = flag in data;
  init(options);
}
