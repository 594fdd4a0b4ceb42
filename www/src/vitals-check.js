// The comparison page: Google's web-vitals measures the same page the SDK measures, and its values
// go out as `wv_reference` events, so the e2e suite can compare the two in D1.
import { onCLS, onFCP, onINP, onLCP, onTTFB } from "web-vitals";
import { trackEvent } from "@sightline/sdk";

const reference = (metric) => trackEvent("wv_reference", { metric: metric.name, value: metric.value });
for (const on of [onCLS, onFCP, onLCP, onTTFB]) on(reference);
// INP as each interaction is processed (web-vitals reports the final INP from an idle callback after
// the page is hidden, which the test's simulated hide does not reach); with one interaction on the
// page, the value is the final one.
onINP(reference, { reportAllChanges: true });

// A late banner shifts the layout (CLS); the button blocks the main thread (INP).
setTimeout(() => {
  const banner = document.createElement("p");
  banner.textContent = "Free shipping this week!";
  banner.style.cssText = "height: 120px; margin: 0; background: #ffe9a8";
  document.querySelector("#slot").append(banner);
}, 400);
document.querySelector("#slow").addEventListener("click", () => {
  const end = performance.now() + 150;
  while (performance.now() < end);
  document.querySelector("#slow").textContent = "Done";
});
