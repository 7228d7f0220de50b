// The browser flow, from sign-up to a first sale, against a live server that
// tests/e2e/test_browser_flow.py started (E2E_PORT). playwright-core drives
// Debian's Chromium (CHROMIUM); no browser is ever downloaded. A screenshot of
// each step goes to E2E_ARTIFACTS.
import { mkdirSync, mkdtempSync } from "node:fs";
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

  // --- the merchant sets up shipping, taxes and a discount code ----------------------------
  await merchant.getByRole("link", { name: "Shipping", exact: true }).click();
  await merchant.getByRole("heading", { name: "Shipping", exact: true }).waitFor();
  await merchant.getByLabel("Zone name").fill("Germany");
  await merchant.getByLabel("Countries").fill("DE");
  await merchant.getByLabel("Method 1 name").fill("Standard");
  await merchant.getByLabel("Price", { exact: true }).fill("4.90");
  await merchant.getByRole("button", { name: "Create zone" }).click();
  await merchant.getByRole("region", { name: "Zone Germany" }).waitFor();
  await shot(merchant, "admin-shipping");
  await merchant.getByRole("link", { name: "Taxes", exact: true }).click();
  await merchant.getByRole("button", { name: "Add a rate" }).click();
  await merchant.getByLabel("Country 1").selectOption("DE");
  await merchant.getByLabel("Rate (%)", { exact: true }).fill("19");
  await merchant.getByLabel("Name", { exact: true }).fill("MwSt");
  await merchant.getByRole("button", { name: "Save taxes" }).click();
  await merchant.getByText("Saved.").waitFor();
  await shot(merchant, "admin-taxes");
  await merchant.getByRole("link", { name: "Discounts", exact: true }).click();
  await merchant.getByLabel("Code").fill("WELCOME10");
  await merchant.getByLabel("Percent").fill("10");
  await merchant.getByRole("button", { name: "Create discount" }).click();
  await merchant.getByRole("cell", { name: "WELCOME10", exact: true }).waitFor();
  await shot(merchant, "admin-discounts");

  // --- the shopper: search, a declined card, a paid order, then out of stock --------------
  const shopper = await context.newPage();
  await shopper.setViewportSize({ width: 390, height: 844 }); // a phone
  watch(shopper, "storefront");
  await shopper.goto(`${storefront}/`);
  await shopper.getByRole("link", { name: "E2E Teas" }).waitFor();

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

  await found.click();
  await shopper.getByRole("heading", { name: "Blue Teapot" }).waitFor();
  await shopper.getByText("In stock").waitFor();
  await shot(shopper, "storefront-product");
  await shopper.getByRole("button", { name: "Add to cart" }).click();
  await shopper.getByLabel("1 item in the cart").waitFor();
  await shopper.getByRole("link", { name: "View cart" }).click();
  await shopper.getByRole("heading", { name: "Your cart" }).waitFor();
  await shopper.getByLabel("Discount code").fill("welcome10");
  await shopper.getByRole("button", { name: "Apply" }).click();
  await shopper.getByRole("button", { name: "Remove code" }).waitFor();
  await shot(shopper, "storefront-cart");

  await shopper.getByRole("link", { name: "Check out" }).click();
  await shopper.getByLabel("E-mail").fill("shopper@example.com");
  await shopper.getByLabel("Full name").fill("Sam Shopper");
  await shopper.getByLabel("Address", { exact: true }).fill("1 Market Street");
  await shopper.getByLabel("City").fill("Berlin");
  await shopper.getByLabel("Postal code").fill("10115");
  await shopper.getByLabel("Country").selectOption("DE");
  await shopper.getByRole("button", { name: "Show shipping options for this address" }).click();
  await shopper.getByRole("radio", { name: /Standard/ }).click(); // checked once the API has re-priced the cart
  await shopper.getByRole("radio", { name: /Standard/, checked: true }).waitFor();
  // 24.50 less 10 % = 22.05, shipping 4.90, MwSt 19 % of both = 4.19 + 0.93: 32.07 in all.
  await shopper.getByText("MwSt 19%").waitFor();
  await shopper.getByTestId("total").filter({ hasText: "32.07" }).waitFor();
  await shopper.getByLabel("Card number").fill("4000000000000002");
  await shopper.getByRole("button", { name: /^Pay / }).click();
  await shopper.getByRole("alert").filter({ hasText: "Payment declined" }).waitFor();
  await shot(shopper, "storefront-card-declined");

  await shopper.getByLabel("Card number").fill("4242424242424242");
  await shopper.getByRole("button", { name: /^Pay / }).click();
  await shopper.getByText("Thank you! Your order is placed.").waitFor();
  await shopper.getByRole("heading", { name: /^Order \d+$/ }).waitFor();
  const orderHeading = await shopper.getByRole("heading", { name: /^Order \d+$/ }).textContent();
  const orderNumber = orderHeading.replace("Order ", "").trim();
  await shopper.getByText("paid", { exact: true }).waitFor();
  await shot(shopper, "storefront-order-confirmation");

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

  if (failures.length) throw new Error(failures.join("\n"));
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
