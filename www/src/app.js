// The SPA section: client-side routes under /app/. The SDK counts each navigation as a pageview by
// itself (it follows pushState and popstate); the app only renders.
const views = {
  "/app/": "<p>Welcome back. Nothing new since your last visit.</p>",
  "/app/orders": '<p>No orders yet.</p><label>Show <select id="order-filter"><option>all</option><option>open</option></select></label>',
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
});
// A filter changes only the query: the SDK does not count it as a new page.
document.addEventListener("change", (e) => {
  if (e.target.id === "order-filter") history.replaceState({}, "", `${location.pathname}?status=${e.target.value}`);
});
addEventListener("popstate", render);
render();
