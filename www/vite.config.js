import { resolve } from "node:path";
import { defineConfig } from "vite";

const page = (p) => resolve(import.meta.dirname, p);

export default defineConfig({
  // The dashboard is written in JSX for Preact (www/src/dashboard/).
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    rollupOptions: {
      input: {
        home: page("index.html"),
        product: page("product.html"),
        cart: page("cart.html"),
        checkout: page("checkout.html"),
        thanks: page("thank-you.html"),
        app: page("app/index.html"),
        dashboard: page("dashboard/index.html"),
        vitals: page("vitals.html"),
      },
    },
  },
});
