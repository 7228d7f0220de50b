/// <reference types="vitest/config" />
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
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

const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|txt|map|webmanifest)$/;

/**
 * `vite build`: every text asset also as .gz and .br beside it, compressed once at
 * build at the highest levels; WhiteNoise and nginx (gzip_static) serve them to
 * clients that accept them, so no request compresses on the fly.
 */
function precompress(): Plugin {
  return {
    name: "storefleet-precompress",
    apply: "build",
    closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const path = join(dir, name);
          return statSync(path).isDirectory() ? walk(path) : [path];
        });
      for (const file of walk(resolve(import.meta.dirname, "dist"))) {
        if (!COMPRESSIBLE.test(file)) continue;
        const body = readFileSync(file);
        if (body.length < 1024) continue; // smaller than a packet: not worth a second file
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(body, {
            params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
          }),
        );
      }
    },
  };
}

export default defineConfig(({ command }) => ({
  base: command === "serve" ? "/" : assetBase.endsWith("/") ? assetBase : `${assetBase}/`,
  plugins: [react(), spaRoutes(), precompress()],
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
