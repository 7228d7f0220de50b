// Lighthouse (pinned in package.json) on the storefront's home, a product page and
// the cart, with its default mobile profile (a phone's screen, simulated slow 4G
// and a 4× slower CPU), against the live server tests/e2e started and the shop
// the browser flow made (E2E_ARTIFACTS/flow.json). It drives Debian's Chromium
// (CHROME_PATH); no browser is downloaded. Fails when a score is under its floor;
// writes every score to E2E_ARTIFACTS/lighthouse.json and each report as HTML.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";

const artifacts = process.env.E2E_ARTIFACTS ?? "test-artifacts/e2e";
const { storefront, product } = JSON.parse(readFileSync(join(artifacts, "flow.json"), "utf8"));
const FLOORS = { performance: 90, accessibility: 100, "best-practices": 95, seo: 95 };
const PAGES = [
  ["home", `${storefront}/`],
  ["product", `${storefront}/products/${product}`],
  ["cart", `${storefront}/cart`],
];

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
  chromeFlags: [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--host-resolver-rules=MAP localhost 127.0.0.1, MAP *.localhost 127.0.0.1",
  ],
});

const scores = {};
const failures = [];
try {
  for (const [name, url] of PAGES) {
    const result = await lighthouse(
      url,
      { port: chrome.port, output: "html", logLevel: "error", onlyCategories: Object.keys(FLOORS) },
      undefined,
    );
    if (!result) throw new Error(`Lighthouse returned nothing for ${url}`);
    const { lhr } = result;
    if (lhr.runtimeError) throw new Error(`${url}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
    writeFileSync(join(artifacts, `lighthouse-${name}.html`), result.report);
    scores[name] = {};
    for (const [category, floor] of Object.entries(FLOORS)) {
      const score = Math.round((lhr.categories[category]?.score ?? 0) * 100);
      scores[name][category] = score;
      if (score < floor) {
        const failed = Object.values(lhr.audits)
          .filter((audit) => audit.score !== null && audit.score < 1 && audit.scoreDisplayMode !== "informative")
          .filter((audit) => lhr.categories[category].auditRefs.some((ref) => ref.id === audit.id && ref.weight > 0))
          .map((audit) => `${audit.id} (${audit.displayValue ?? audit.score})`);
        failures.push(`${name}: ${category} ${score} < ${floor}: ${failed.join(", ")}`);
      }
    }
    console.log(`lighthouse ${name}: ${JSON.stringify(scores[name])}`);
  }
} finally {
  await chrome.kill();
}
writeFileSync(join(artifacts, "lighthouse.json"), JSON.stringify({ mobile: true, floors: FLOORS, scores }, null, 2));
if (failures.length) {
  console.error(failures.join("\n"));
  process.exitCode = 1;
}
