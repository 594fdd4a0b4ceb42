// The SPA section: client-side routes under /app/, each counted as a pageview by the SDK.
import { trackPageview } from "@sightline/sdk";

const views = {
  "/app/": "<p>Welcome back. Nothing new since your last visit.</p>",
  "/app/orders": "<p>No orders yet.</p>",
  "/app/settings": "<p>Notifications: on.</p>",
};

const render = () => {
  document.querySelector("#view").innerHTML = views[location.pathname] ?? "<p>Not found.</p>";
};

document.addEventListener("click", (e) => {
  const link = e.target.closest("a[data-route]");
  if (!link) return;
  e.preventDefault();
  if (link.pathname === location.pathname) return;
  history.pushState({}, "", link.pathname);
  render();
  trackPageview();
});
addEventListener("popstate", () => {
  render();
  trackPageview();
});
render();
