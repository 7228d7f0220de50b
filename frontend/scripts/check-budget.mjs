// The storefront's first-load JavaScript budget: the scripts its index.html loads
// at once (the entry and the chunks it preloads), gzipped, must stay within
// BUDGET_KB. Run after `npm run build` (make test-frontend does); exits 1 when over.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET_KB = Number(process.env.STOREFRONT_JS_BUDGET_KB ?? 150);
const dist = resolve(fileURLToPath(import.meta.url), "../../dist");
const html = readFileSync(join(dist, "storefront", "index.html"), "utf8");
const base = process.env.SPA_ASSET_BASE ?? "/static/spa/";
const urls = [
  ...html.matchAll(/<script[^>]+type="module"[^>]+src="([^"]+)"/g),
  ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g),
].map((match) => match[1]);
let total = 0;
for (const url of new Set(urls)) {
  const file = join(dist, url.startsWith(base) ? url.slice(base.length) : url);
  const size = gzipSync(readFileSync(file), { level: 9 }).length;
  total += size;
  console.log(`${(size / 1024).toFixed(1).padStart(7)} KB  ${url}`);
}
const line = `storefront first-load JS: ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_KB} KB)`;
if (urls.length === 0) {
  console.error("no scripts found in dist/storefront/index.html: is the build there?");
  process.exit(1);
}
if (total > BUDGET_KB * 1024) {
  console.error(`${line}: over budget`);
  process.exit(1);
}
console.log(line);
