/// <reference types="vitest/config" />
import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// One build, two apps (storefront/index.html and admin/index.html) sharing chunks.
// Hashed assets land in dist/assets/ and are addressed under SPA_ASSET_BASE: the
// app's own /static/spa/ by default, or a CDN's URL (see the README). The API base
// is never baked in: each app takes it from the page's host at run time.
const assetBase = process.env.SPA_ASSET_BASE ?? "/static/spa/";

/** `npm run dev`: the routes the app serves in production, /app/... → admin, the rest → storefront. */
function spaRoutes(): Plugin {
  return {
    name: "storefleet-spa-routes",
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        const path = (req.url ?? "/").split("?")[0] ?? "/";
        if (path === "/app" || path.startsWith("/app/")) {
          req.url = "/admin/index.html";
        } else if (!/^\/(api|media|static|@|src|node_modules|storefront|admin)(\/|$)/.test(path) && !/\.\w+$/.test(path)) {
          req.url = "/storefront/index.html";
        }
        next();
      });
    },
  };
}

export default defineConfig(({ command }) => ({
  base: command === "serve" ? "/" : assetBase.endsWith("/") ? assetBase : `${assetBase}/`,
  plugins: [react(), spaRoutes()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    rollupOptions: {
      input: {
        storefront: resolve(import.meta.dirname, "storefront/index.html"),
        admin: resolve(import.meta.dirname, "admin/index.html"),
      },
    },
  },
  server: {
    // `npm run dev`: the API calls go to the Django app (make run) with the page's Host.
    allowedHosts: [".localhost"],
    proxy: {
      "/api": { target: "http://localhost:8000", changeOrigin: false },
      "/media": { target: "http://localhost:8000", changeOrigin: false },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test-setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
}));
