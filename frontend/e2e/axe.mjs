// axe-core in the browser flow: each page checked is run through axe's rules
// (WCAG 2.x A and AA, and best practices) and every violation is recorded, so
// the flow fails at its end with all of them listed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** Run axe on `page`; return its violations as lines ("name: rule (impact) × n: help; at: selectors"). */
export async function axeViolations(page, name) {
  // Through the DevTools protocol, so no Content-Security-Policy stands in the way.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((node) => node.target.join(" ")),
      count: v.nodes.length,
    }));
  });
  return violations.map((v) => `${name}: ${v.id} (${v.impact}) × ${v.count}: ${v.help}; at ${v.targets.join(" | ")}`);
}

/** A checker that keeps every violation found, and the pages it checked. */
export function axeChecker() {
  const checked = [];
  const violations = [];
  return {
    checked,
    violations,
    async check(page, name) {
      const found = await axeViolations(page, name);
      checked.push(name);
      violations.push(...found);
      console.log(`axe: ${name}: ${found.length ? `${found.length} violation(s)` : "no violations"}`);
    },
  };
}
