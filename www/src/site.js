// The demo storefront's tracking: the SDK as a customer installs it (npm tarball), one init, and a
// few typed events wired to the buttons. window.sightline exposes the API for the console.
import { init, trackEvent, trackPageview, flush } from "@sightline/sdk";

init({
  site: "demo",
  endpoint: location.origin,
  queryAllowlist: ["variant"],
  autoCapture: true, // outbound links, downloads, form submits, scroll depth, engaged time, JS errors
  webVitals: true, // LCP, INP, CLS, FCP, TTFB per page
  // The shop's own QA browsers (?qa=1 once) are not counted.
  beforeSend: (event) => (localStorage.getItem("demo_qa") ? null : event),
});
if (new URLSearchParams(location.search).get("qa") === "1") localStorage.setItem("demo_qa", "1");
window.sightline = { trackEvent, trackPageview, flush };

const CART_KEY = "demo_cart";
const cart = () => JSON.parse(localStorage.getItem(CART_KEY) || "[]");

for (const button of document.querySelectorAll("[data-add-to-cart]")) {
  button.addEventListener("click", () => {
    const { sku, price } = button.dataset;
    localStorage.setItem(CART_KEY, JSON.stringify([...cart(), { sku, price: Number(price) }]));
    trackEvent("cart_add", { sku, price: Number(price), currency: "EUR" });
    document.querySelector("#cart-count").textContent = String(cart().length);
  });
}

const count = document.querySelector("#cart-count");
if (count) count.textContent = String(cart().length);

const checkout = document.querySelector("#checkout-form");
if (checkout) {
  trackEvent("checkout_started", { items: cart().length });
  checkout.addEventListener("submit", (e) => {
    e.preventDefault();
    const items = cart();
    const value = items.reduce((sum, i) => sum + i.price, 0);
    const orderId = "ord_" + Math.random().toString(36).slice(2, 10);
    sessionStorage.setItem("demo_order", JSON.stringify({ orderId, value, items: items.length }));
    localStorage.removeItem(CART_KEY);
    location.href = "/thank-you";
  });
}

const order = JSON.parse(sessionStorage.getItem("demo_order") || "null");
if (order && document.querySelector("#thanks")) {
  trackEvent("purchase", { order_id: order.orderId, value: order.value, currency: "EUR", items: order.items });
  sessionStorage.removeItem("demo_order");
  document.querySelector("#order-id").textContent = order.orderId;
}
