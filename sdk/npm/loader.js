// Sightline <script> loader, hosted by the collector at /sightline.js:
//   <script src="https://stats.example.com/sightline.js" data-site="demo" defer></script>
// Exposes window.sightline at once (calls queue until the SDK is ready), then loads the versioned
// SDK beside this file. data-endpoint overrides the collector origin (default: this script's origin).
(function () {
  var s = document.currentScript;
  if (!s || window.sightline) return;
  var q = [];
  var api = {};
  var names = ["trackEvent", "trackPageview", "flush", "consent", "optOut", "identify", "reset"];
  names.forEach(function (n) {
    api[n] = function () { q.push([n, arguments]); };
  });
  window.sightline = api;
  var base = new URL(".", s.src).href;
  import(base + "sdk/__SDK_VERSION__/index.js").then(function (m) {
    m.init({
      site: s.getAttribute("data-site"),
      endpoint: s.getAttribute("data-endpoint") || new URL(s.src).origin,
      privacy: s.getAttribute("data-privacy") || undefined,
      requireConsent: s.hasAttribute("data-require-consent"),
      surface: s.getAttribute("data-surface") || undefined,
      hashRouting: s.hasAttribute("data-hash-routing"),
      autoCapture: s.hasAttribute("data-auto-capture"),
      notFound: s.hasAttribute("data-not-found"),
      webVitals: s.hasAttribute("data-web-vitals"),
    });
    names.forEach(function (n) { api[n] = m[n]; });
    q.forEach(function (c) { m[c[0]].apply(null, c[1]); });
  });
})();
