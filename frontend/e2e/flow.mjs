// The browser flow, from sign-up to a first sale, against a live server that
// tests/e2e/test_browser_flow.py started (E2E_PORT). playwright-core drives
// Debian's Chromium (CHROMIUM); no browser is ever downloaded. A screenshot of
// each step goes to E2E_ARTIFACTS.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { chromium } from "playwright-core";

const port = process.env.E2E_PORT;
if (!port) throw new Error("E2E_PORT is required");
const artifacts = process.env.E2E_ARTIFACTS ?? "test-artifacts/e2e";
mkdirSync(artifacts, { recursive: true });
const admin = `http://localhost:${port}/app`;
const slug = `e2e-${Date.now().toString(36)}`;
const storefront = `http://${slug}.localhost:${port}`;
const email = `merchant-${slug}@example.com`;
const password = "correct-horse-battery-staple";
const STEP_TIMEOUT = 20_000;

let step = 0;
async function shot(page, name) {
  step += 1;
  const file = join(artifacts, `${String(step).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`step ${step}: ${name}`);
}

/** A small real PNG (a blue square), so the worker's thumbnailer has something to decode. */
function png(size = 48) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [31, 95, 191]).flat())]);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

// A fresh profile each run; playwright-core takes it as the persistent context's directory.
const userDataDir = process.env.E2E_USER_DATA_DIR ?? mkdtempSync(join(tmpdir(), "storefleet-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    // Shop hosts ({slug}.localhost) and the platform host on the IPv4 loopback the server binds.
    "--host-resolver-rules=MAP localhost 127.0.0.1, MAP *.localhost 127.0.0.1",
  ],
});

const failures = [];

// axe-core (pinned in package.json) on every storefront page the shopper sees: any
// violation fails the run, with its rule, impact and the elements it found.
const axeSource = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const axeChecked = [];
async function axeCheck(page, name) {
  // These callbacks run in the page, where window and document are the browser's.
  if (!(await page.evaluate(() => typeof globalThis.axe !== "undefined"))) await page.addScriptTag({ path: axeSource });
  const results = await page.evaluate(() =>
    globalThis.axe.run(globalThis.document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } }),
  );
  axeChecked.push(name);
  for (const violation of results.violations) {
    const targets = violation.nodes.map((node) => node.target.join(" ")).slice(0, 5).join("; ");
    failures.push(`axe on ${name}: ${violation.id} (${violation.impact}): ${violation.help} — ${targets}`);
  }
}
function watch(page, who) {
  page.on("pageerror", (error) => failures.push(`${who}: page error: ${error.message}`));
}

try {
  // --- the merchant: sign up, create a shop, add a product with an image -----------------
  context.setDefaultTimeout(STEP_TIMEOUT);
  // The admin (platform host) and the storefront (shop host) are separate origins, so
  // the merchant's session and the shopper's cart never mix in one profile.
  const merchant = context.pages()[0] ?? (await context.newPage());
  watch(merchant, "admin");

  await merchant.goto(`${admin}/signup`);
  await merchant.getByLabel("Your name").fill("Erin Merchant");
  await merchant.getByLabel("E-mail").fill(email);
  await merchant.getByLabel("Password").fill(password);
  await shot(merchant, "admin-signup");
  await merchant.getByRole("button", { name: "Create account" }).click();

  await merchant.getByRole("heading", { name: "Create a shop" }).waitFor();
  await merchant.getByLabel("Shop name").fill("E2E Teas");
  await merchant.getByLabel("Address (slug)").fill(slug);
  await merchant.getByLabel("Currency").selectOption("EUR");
  await shot(merchant, "admin-create-shop");
  await merchant.getByRole("button", { name: "Create shop" }).click();
  await merchant.getByRole("heading", { name: "E2E Teas" }).waitFor();
  await merchant.getByRole("heading", { name: "Sales" }).waitFor();
  await shot(merchant, "admin-shop-dashboard");

  await merchant.getByRole("link", { name: "Products", exact: true }).click();
  await merchant.getByText("No products yet").waitFor();
  await merchant.getByRole("link", { name: "New product" }).click();
  await merchant.getByLabel("Title", { exact: true }).fill("Blue Teapot");
  await merchant.locator("#description").fill("A stoneware teapot that holds a litre.");
  await merchant.getByLabel("SKU", { exact: true }).fill("TEA-1");
  await merchant.getByLabel("Price", { exact: true }).fill("24.50");
  await merchant.getByLabel("Stock", { exact: true }).fill("2");
  await shot(merchant, "admin-new-product");
  await merchant.getByRole("button", { name: "Create product" }).click();
  await merchant.getByRole("heading", { name: "Blue Teapot" }).waitFor();

  await merchant.getByLabel("Alt text for the next image").fill("A blue teapot");
  await merchant.getByLabel("Upload an image").setInputFiles({ name: "teapot.png", mimeType: "image/png", buffer: png() });
  await merchant.getByText("Image uploaded.").waitFor();
  await merchant.locator(".gallery img[alt='A blue teapot']").waitFor();
  await shot(merchant, "admin-product-with-image");

  // The merchant brands the storefront: an announcement, a hero, a shipping page.
  await merchant.getByRole("link", { name: "Storefront theme" }).click();
  await merchant.getByLabel("Hero headline").fill("Teapots that pour straight");
  await merchant.getByLabel("Announcement bar").fill("Free shipping over €50");
  await merchant.getByRole("button", { name: "Save theme" }).click();
  await merchant.getByText("Theme saved.").waitFor();
  await merchant.getByLabel("Page", { exact: true }).selectOption("shipping");
  await merchant.locator("#page-body").fill("We ship within two working days.\n\nEurope only.");
  await merchant.getByRole("button", { name: "Publish page" }).click();
  await merchant.getByText("Page saved.").waitFor();
  await shot(merchant, "admin-theme");

  // --- the shopper: search, a declined card, a paid order, then out of stock --------------
  const shopper = await context.newPage();
  await shopper.setViewportSize({ width: 390, height: 844 }); // a phone
  watch(shopper, "storefront");
  await shopper.goto(`${storefront}/`);
  await shopper.getByRole("link", { name: "E2E Teas" }).waitFor();
  await shopper.getByText("Free shipping over €50").waitFor();
  await shopper.getByRole("region", { name: "Welcome" }).getByText("Teapots that pour straight").waitFor();
  await axeCheck(shopper, "storefront home");
  await shopper.getByRole("link", { name: "Shipping" }).click();
  await shopper.getByRole("heading", { name: "Shipping" }).waitFor();
  await shopper.getByText("Europe only.").waitFor();
  await axeCheck(shopper, "storefront shipping page");
  await shot(shopper, "storefront-content-page");
  await shopper.goto(`${storefront}/`);

  // The worker indexes the new product from its event; search until it shows up.
  const found = shopper.getByRole("link", { name: "Blue Teapot" });
  for (let attempt = 0; ; attempt++) {
    await shopper.getByLabel("Search products").fill("teapot");
    await shopper.getByRole("button", { name: "Search" }).click();
    await shopper.getByRole("heading", { name: /Results for/ }).waitFor();
    try {
      await found.waitFor({ timeout: 2_000 });
      break;
    } catch (error) {
      if (attempt >= 15) throw error;
      await shopper.reload();
    }
  }
  await shot(shopper, "storefront-search");
  await axeCheck(shopper, "storefront search results");

  await found.click();
  await shopper.getByRole("heading", { name: "Blue Teapot" }).waitFor();
  await shopper.getByText("In stock").waitFor();
  await shot(shopper, "storefront-product");
  await axeCheck(shopper, "storefront product");
  await shopper.getByRole("button", { name: "Add to cart" }).click();
  await shopper.getByLabel("1 item in the cart").waitFor();
  await shopper.getByRole("link", { name: "View cart" }).click();
  await shopper.getByRole("heading", { name: "Your cart" }).waitFor();
  await shot(shopper, "storefront-cart");
  await axeCheck(shopper, "storefront cart");

  await shopper.getByRole("link", { name: "Check out" }).click();
  await shopper.getByLabel("E-mail").fill("shopper@example.com");
  await shopper.getByLabel("Full name").fill("Sam Shopper");
  await shopper.getByLabel("Address", { exact: true }).fill("1 Market Street");
  await shopper.getByLabel("City").fill("Berlin");
  await shopper.getByLabel("Postal code").fill("10115");
  await shopper.getByLabel("Country", { exact: true }).selectOption({ label: "Germany" });
  await shopper.getByLabel("Card number").fill("4000000000000002");
  await shopper.getByRole("button", { name: /^Pay / }).click();
  await shopper.getByRole("alert").filter({ hasText: "Payment declined" }).waitFor();
  await shot(shopper, "storefront-card-declined");
  await axeCheck(shopper, "storefront checkout (declined card)");

  await shopper.getByLabel("Card number").fill("4242424242424242");
  await shopper.getByRole("button", { name: /^Pay / }).click();
  await shopper.getByText("Thank you! Your order is placed.").waitFor();
  await shopper.getByRole("heading", { name: /^Order \d+$/ }).waitFor();
  const orderHeading = await shopper.getByRole("heading", { name: /^Order \d+$/ }).textContent();
  const orderNumber = orderHeading.replace("Order ", "").trim();
  await shopper.getByText("paid", { exact: true }).waitFor();
  await shot(shopper, "storefront-order-confirmation");
  await axeCheck(shopper, "storefront order confirmation");

  // One teapot is left: asking for five is refused with a readable message.
  await shopper.goto(`${storefront}/products/blue-teapot`);
  await shopper.getByLabel("Quantity").fill("5");
  await shopper.getByRole("button", { name: "Add to cart" }).click();
  await shopper.getByRole("alert").filter({ hasText: "Not enough stock" }).waitFor();
  await shot(shopper, "storefront-out-of-stock");

  // --- the merchant sees the order and fulfils it ----------------------------------------
  await merchant.getByRole("link", { name: "Orders", exact: true }).click();
  await merchant.getByRole("link", { name: `#${orderNumber}` }).click();
  await merchant.getByRole("heading", { name: new RegExp(`Order #${orderNumber}`) }).waitFor();
  await merchant.getByText("shopper@example.com").first().waitFor();
  await shot(merchant, "admin-order");
  await merchant.getByRole("button", { name: "Fulfil" }).click();
  await merchant.getByText("Order updated").waitFor();
  await merchant.locator("h1 .badge", { hasText: "fulfilled" }).waitFor();
  await shot(merchant, "admin-order-fulfilled");

  // The shopper's order page tells the news.
  await shopper.goBack();
  await shopper.goto(`${storefront}/orders`);
  await shot(shopper, "storefront-order-lookup");
  await axeCheck(shopper, "storefront order lookup");

  if (failures.length) throw new Error(failures.join("\n"));
  console.log(`axe-core: 0 violations on ${axeChecked.length} storefront pages (${axeChecked.join(", ")})`);
  // What the Lighthouse run (e2e/lighthouse.mjs) measures next: this shop's pages.
  writeFileSync(join(artifacts, "flow.json"), JSON.stringify({ storefront, product: "blue-teapot" }));
  console.log(`browser flow passed: order ${orderNumber} on ${storefront}`);
} catch (error) {
  for (const [index, page] of context.pages().entries()) {
    await page.screenshot({ path: join(artifacts, `failure-${index}.png`), fullPage: true }).catch(() => {});
    console.error(`page at failure: ${page.url()}`);
  }
  console.error(error);
  process.exitCode = 1;
} finally {
  await context.close();
}
