// The browser flow, from sign-up to a first sale, against a live server that
// tests/e2e/test_browser_flow.py started (E2E_PORT). playwright-core drives
// Debian's Chromium (CHROMIUM); no browser is ever downloaded. A screenshot of
// each step goes to E2E_ARTIFACTS. Every page it visits is checked with
// axe-core (e2e/axe.mjs), at desktop and phone sizes: a violation fails the run.
// With SCREENSHOTS_DIR (`make screenshots`), the pages docs/screenshots.md shows
// are also saved there at desktop and phone sizes.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { chromium } from "playwright-core";
import { axeChecker } from "./axe.mjs";

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

const mailDir = process.env.E2E_MAIL_DIR;

/** The path and query of the link to `path` in the e-mail to `to` about `subject` the worker wrote (polled). */
async function mailedLink(to, subject, path) {
  const pattern = new RegExp(`https?://[^/\\s"]+(${path.replace(/[/?]/g, "\\$&")}\\?token=[^\\s"<&]+)`);
  for (let attempt = 0; attempt < 100; attempt++) {
    if (mailDir && existsSync(mailDir)) {
      for (const name of readdirSync(mailDir).sort().reverse()) {
        for (const message of readFileSync(join(mailDir, name), "utf8").split("\n" + "-".repeat(79) + "\n")) {
          if (!message.includes(`To: ${to}`) || !message.includes(subject)) continue;
          const match = pattern.exec(message);
          if (match) return match[1];
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no e-mail to ${to} about ${subject} with a link to ${path} in ${mailDir}`);
}

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const docsShots = process.env.SCREENSHOTS_DIR;
if (docsShots) mkdirSync(docsShots, { recursive: true });
const axe = axeChecker();

/** For docs/: `name`-desktop.png and `name`-phone.png, then the page's own size again. */
async function docsShot(page, name) {
  if (!docsShots) return;
  const size = page.viewportSize();
  for (const [label, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(150); // layout and lazy images settle
    await page.screenshot({ path: join(docsShots, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(size);
}

/** An admin page at desktop and phone sizes through axe; on the phone its first screen starts with the page, not the menu. */
async function checkAdminPage(page, name) {
  await axe.check(page, `admin ${name} (desktop)`);
  const size = page.viewportSize();
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(100);
  await axe.check(page, `admin ${name} (phone)`);
  const layout = await page.evaluate((width) => {
    const wide = [...document.querySelectorAll("main *")].filter((el) => el.getBoundingClientRect().right > width + 1);
    const innermost = wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)));
    return {
      headingTop: document.querySelector("main h1")?.getBoundingClientRect().top ?? 0,
      scrollWidth: document.documentElement.scrollWidth,
      culprits: innermost.slice(0, 3).map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.split(" ").join(".")}` : ""}`),
    };
  }, PHONE.width);
  if (layout.headingTop > PHONE.height / 2) failures.push(`admin ${name} (phone): the page's heading starts ${layout.headingTop}px down`);
  if (layout.scrollWidth > PHONE.width) {
    failures.push(`admin ${name} (phone): ${layout.scrollWidth}px wide, wider than the screen (${layout.culprits.join(", ")})`);
  }
  await page.setViewportSize(size);
}

/** The token of the first link to `page` in an e-mail to `to` that the worker wrote to E2E_MAIL_DIR. */
async function mailedToken(to, page, timeout = STEP_TIMEOUT) {
  const directory = process.env.E2E_MAIL_DIR;
  if (!directory) throw new Error("E2E_MAIL_DIR is required to follow e-mailed links");
  const link = new RegExp(`/app/${page}\\?token=([A-Za-z0-9._:-]+)`);
  const giveUp = Date.now() + timeout;
  while (Date.now() < giveUp) {
    const files = existsSync(directory) ? readdirSync(directory) : [];
    for (const name of files) {
      // Undo quoted-printable soft breaks and escapes, should the body have been encoded so.
      const text = readFileSync(join(directory, name), "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "=");
      for (const message of text.split(/\n-{79}\n/)) {
        if (!message.includes(`To: ${to}`)) continue;
        const found = message.match(link);
        if (found) return found[1];
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no e-mail to ${to} linking to ${page}`);
}

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
  viewport: DESKTOP,
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
  await checkAdminPage(merchant, "create shop");
  await merchant.getByLabel("Shop name").fill("E2E Teas");
  await merchant.getByLabel("Address (slug)").fill(slug);
  await merchant.getByLabel("Currency").selectOption("EUR");
  await shot(merchant, "admin-create-shop");
  await merchant.getByRole("button", { name: "Create shop" }).click();
  await merchant.getByRole("heading", { name: "E2E Teas" }).waitFor();
  await merchant.getByRole("heading", { name: "Sales" }).waitFor();
  await merchant.getByRole("heading", { name: "Set up your shop" }).waitFor();
  await merchant.getByText("0 of 4 done").waitFor();
  await shot(merchant, "admin-shop-dashboard");
  await checkAdminPage(merchant, "dashboard");

  await merchant.getByRole("link", { name: "Products", exact: true }).click();
  await merchant.getByText("No products yet").waitFor();
  await checkAdminPage(merchant, "products (empty)");
  await merchant.getByRole("link", { name: "New product" }).click();
  await merchant.getByLabel("Title", { exact: true }).fill("Blue Teapot");
  await merchant.locator("#description").fill("A stoneware teapot that holds a litre.");
  await merchant.getByLabel("SKU", { exact: true }).fill("TEA-1");
  await merchant.getByLabel("Price", { exact: true }).fill("24.50");
  await merchant.getByLabel("Stock", { exact: true }).fill("2");
  // The image is chosen before the product exists, and goes up right after the create.
  await merchant.getByLabel("Add images").setInputFiles({ name: "teapot.png", mimeType: "image/png", buffer: png() });
  await merchant.getByLabel("Alt text for teapot.png").fill("A blue teapot");
  await shot(merchant, "admin-new-product");
  await checkAdminPage(merchant, "new product");
  await merchant.getByRole("button", { name: "Create product" }).click();
  await merchant.getByRole("heading", { name: "Blue Teapot" }).waitFor();
  await merchant.getByText("Product created with 1 image.").waitFor();
  await merchant.locator(".image-list img[alt='A blue teapot']").waitFor();
  await merchant.getByRole("link", { name: /View on storefront/ }).waitFor();
  // Saving says so (the editor remounts for the saved product; the toast stays).
  await merchant.locator("#description").fill("A stoneware teapot that holds a litre, glazed blue.");
  await merchant.getByRole("button", { name: "Save product" }).click();
  await merchant.getByText("Product saved.").waitFor();
  await shot(merchant, "admin-product-with-image");
  await checkAdminPage(merchant, "product");

  await merchant.getByRole("link", { name: "← Products" }).click();
  await merchant.getByRole("table", { name: "Products" }).waitFor();
  await merchant.locator("table img.thumb").waitFor();
  await checkAdminPage(merchant, "products");

  // --- categories: a tree whose category describes its products' attributes, as forms ----
  await merchant.getByRole("link", { name: "Categories", exact: true }).click();
  await merchant.getByRole("heading", { name: "Categories" }).waitFor();
  await merchant.getByLabel("New category").fill("Teaware");
  await merchant.getByRole("button", { name: "Add category" }).click();
  await merchant.getByRole("button", { name: "Edit Teaware" }).click();
  await merchant.getByRole("button", { name: "Add an attribute" }).click();
  await merchant.getByLabel("Key", { exact: true }).fill("material");
  await merchant.getByLabel("Type", { exact: true }).selectOption("choice");
  await merchant.getByLabel("Choices (comma-separated)").fill("stoneware, glass");
  await merchant.getByLabel("Required").check();
  await shot(merchant, "admin-category-attributes");
  await merchant.getByRole("button", { name: "Save Teaware" }).click();
  await merchant.locator(".category-tree .badge", { hasText: "attributes" }).waitFor();
  await merchant.getByRole("link", { name: "Products", exact: true }).click();
  await merchant.getByRole("link", { name: "Blue Teapot" }).click();
  await merchant.getByLabel("Category").selectOption({ label: "Teaware" });
  await merchant.getByLabel(/^material/).selectOption("stoneware");
  await shot(merchant, "admin-product-attributes-form");
  await merchant.getByRole("button", { name: "Save product" }).click();
  await merchant.getByText("Product saved.").waitFor();

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

  // --- the merchant sets up shipping, taxes and a discount code ----------------------------
  await merchant.getByRole("link", { name: "Shipping", exact: true }).click();
  await merchant.getByRole("heading", { name: "Shipping", exact: true }).waitFor();
  await merchant.getByLabel("Zone name").fill("Germany");
  await merchant.getByLabel("Add a country", { exact: true }).selectOption({ label: "Germany" });
  await merchant.getByLabel("Method 1 name").fill("Standard");
  await merchant.getByLabel("Method 1 price", { exact: true }).fill("4.90");
  await merchant.getByLabel("Method 1 min days", { exact: true }).fill("2");
  await merchant.getByLabel("Method 1 max days", { exact: true }).fill("4");
  await merchant.getByRole("button", { name: "Create zone" }).click();
  await merchant.getByText("Zone Germany saved.", { exact: true }).waitFor();
  await merchant.getByRole("region", { name: "Zone Germany" }).waitFor();
  await shot(merchant, "admin-shipping");
  await merchant.getByRole("link", { name: "Taxes", exact: true }).click();
  await merchant.getByRole("button", { name: "Add a rate" }).click();
  await merchant.getByLabel("Country 1").selectOption("DE");
  await merchant.getByLabel("Rate (%)", { exact: true }).fill("19");
  await merchant.getByLabel("Name", { exact: true }).fill("MwSt");
  await merchant.getByRole("button", { name: "Save taxes" }).click();
  await merchant.getByText("Taxes saved.", { exact: true }).waitFor();
  await shot(merchant, "admin-taxes");
  await merchant.getByRole("link", { name: "Discounts", exact: true }).click();
  await merchant.getByLabel("Code").fill("WELCOME10");
  await merchant.getByLabel("Percent").fill("10");
  await merchant.getByRole("button", { name: "Create discount" }).click();
  await merchant.getByText("Discount WELCOME10 saved.", { exact: true }).waitFor();
  await merchant.getByRole("cell", { name: "WELCOME10", exact: true }).waitFor();
  await shot(merchant, "admin-discounts");

  // --- the shopper: search, a declined card, a paid order, then out of stock --------------
  const shopper = await context.newPage();
  await shopper.setViewportSize({ width: 390, height: 844 }); // a phone
  watch(shopper, "storefront");
  await shopper.goto(`${storefront}/`);
  await shopper.getByRole("link", { name: "E2E Teas" }).waitFor();
  await shopper.getByText("Free shipping over €50").waitFor();
  await shopper.getByRole("region", { name: "Welcome" }).getByText("Teapots that pour straight").waitFor();
  await axe.check(shopper, "storefront home");
  await shopper.getByRole("link", { name: "Shipping" }).click();
  await shopper.getByRole("heading", { name: "Shipping" }).waitFor();
  await shopper.getByText("Europe only.").waitFor();
  await axe.check(shopper, "storefront shipping page");
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
  await axe.check(shopper, "storefront search results");

  await found.click();
  await shopper.getByRole("heading", { name: "Blue Teapot" }).waitFor();
  await shopper.getByText("In stock").waitFor();
  await shot(shopper, "storefront-product");
  await docsShot(shopper, "storefront-product");
  await axe.check(shopper, "storefront product");
  await shopper.getByRole("button", { name: "Add to cart" }).click();
  await shopper.getByLabel("1 item in the cart").waitFor();
  await shopper.getByRole("link", { name: "View cart" }).click();
  await shopper.getByRole("heading", { name: "Your cart" }).waitFor();
  await shopper.getByLabel("Discount code").fill("welcome10");
  await shopper.getByRole("button", { name: "Apply" }).click();
  await shopper.getByRole("button", { name: "Remove code" }).waitFor();
  await shot(shopper, "storefront-cart");
  await docsShot(shopper, "storefront-cart");

  // The merchant watches the orders list while the shopper pays: the order must appear
  // there through the live stream (SSE, served by uvicorn behind nginx), without a reload.
  await merchant.getByRole("link", { name: "Orders", exact: true }).click();
  await merchant.getByRole("heading", { name: "Orders" }).waitFor();
  await merchant.getByText("Live", { exact: true }).waitFor();
  let merchantLoads = 0;
  merchant.on("load", () => {
    merchantLoads += 1;
  });
  await axe.check(shopper, "storefront cart");

  await shopper.getByRole("link", { name: "Check out" }).click();
  await shopper.getByLabel("E-mail").fill("shopper@example.com");
  await shopper.getByLabel("Full name").fill("Sam Shopper");
  await shopper.getByLabel("Address", { exact: true }).fill("1 Market Street");
  await shopper.getByLabel("City").fill("Berlin");
  await shopper.getByLabel("Postal code").fill("10115");
  await shopper.getByLabel("Country", { exact: true }).selectOption({ label: "Germany" });
  // The country's regions come from the API once it is chosen (the list it checks `region` against).
  await shopper.getByLabel("State / province (optional)", { exact: true }).selectOption({ label: "Berlin" });
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
  await axe.check(shopper, "storefront checkout (declined card)");

  await shopper.getByLabel("Card number").fill("4242424242424242");
  await docsShot(shopper, "storefront-checkout");
  await shopper.getByRole("button", { name: /^Pay / }).click();
  await shopper.getByText("Thank you! Your order is placed.").waitFor();
  await shopper.getByRole("heading", { name: /^Order \d+$/ }).waitFor();
  const orderHeading = await shopper.getByRole("heading", { name: /^Order \d+$/ }).textContent();
  const orderNumber = orderHeading.replace("Order ", "").trim();
  await shopper.getByText("paid", { exact: true }).first().waitFor();
  await shot(shopper, "storefront-order-confirmation");
  await axe.check(shopper, "storefront order confirmation");

  await merchant.getByRole("link", { name: `#${orderNumber}` }).waitFor({ timeout: STEP_TIMEOUT });
  if (merchantLoads !== 0) throw new Error("the admin reloaded to show the new order");
  await shot(merchant, "admin-order-arrived-live");

  // One teapot is left: asking for five is refused with a readable message.
  await shopper.goto(`${storefront}/products/blue-teapot`);
  await shopper.getByLabel("Quantity").fill("5");
  await shopper.getByRole("button", { name: "Add to cart" }).click();
  await shopper.getByRole("alert").filter({ hasText: "Not enough stock" }).waitFor();
  await shot(shopper, "storefront-out-of-stock");

  // The shopper goes back to the order's page and stays there while the merchant ships it.
  await shopper.goBack();
  await shopper.getByRole("heading", { name: `Order ${orderNumber}` }).waitFor();
  await shopper.getByText("paid", { exact: true }).first().waitFor();
  let shopperLoads = 0;
  shopper.on("load", () => {
    shopperLoads += 1;
  });

  // --- the merchant sees the order and fulfils it ----------------------------------------
  await merchant.getByRole("link", { name: "Orders", exact: true }).click();
  await merchant.getByRole("table", { name: "Orders" }).waitFor();
  await checkAdminPage(merchant, "orders");
  await merchant.getByRole("link", { name: `#${orderNumber}` }).click();
  await merchant.getByRole("heading", { name: new RegExp(`Order #${orderNumber}`) }).waitFor();
  await merchant.getByText("shopper@example.com").first().waitFor();
  await shot(merchant, "admin-order");
  await merchant.getByRole("button", { name: "Fulfil" }).click();
  await merchant.getByText("Order updated").waitFor();
  await merchant.locator("h1 .badge", { hasText: "fulfilled" }).waitFor();
  await shot(merchant, "admin-order-fulfilled");
  await checkAdminPage(merchant, "order");

  // The shopper's order page tells the news live (its own stream, opened with the order's token).
  await shopper.getByText("fulfilled", { exact: true }).first().waitFor({ timeout: STEP_TIMEOUT });
  if (shopperLoads !== 0) throw new Error("the order page reloaded to show the shipment");
  await shot(shopper, "storefront-order-shipped-live");

  // The overview after a first sale: the checklist has noticed the product and the order.
  await merchant.getByRole("link", { name: "Overview", exact: true }).click();
  await merchant.getByText("2 of 4 done").waitFor();
  await merchant.locator(".toast-close").evaluateAll((buttons) => buttons.forEach((button) => button.click()));
  await docsShot(merchant, "admin-dashboard");

  // --- the shopper: an account with the guest's e-mail, verified from its e-mail -------------
  await shopper.goto(`${storefront}/account/signup`);
  await shopper.getByLabel("Name").fill("Sam Shopper");
  await shopper.getByLabel("E-mail").fill("shopper@example.com");
  await shopper.getByLabel("Password").fill("a shopper's own passphrase");
  await shot(shopper, "storefront-account-signup");
  await shopper.getByRole("button", { name: "Create account" }).click();
  await shopper.getByRole("heading", { name: "Your account" }).waitFor();
  await shopper.getByText("not confirmed").waitFor();
  await shopper.getByText("No orders yet.").waitFor(); // the guest order waits for the e-mail's confirmation
  await shot(shopper, "storefront-account-unverified");

  await shopper.goto(`${storefront}${await mailedLink("shopper@example.com", "Confirm your e-mail", "/account/verify")}`);
  await shopper.getByText(/is confirmed/).waitFor();
  await shopper.getByRole("link", { name: "Go to your account" }).click();
  await shopper.locator("td", { hasText: new RegExp(`^#${orderNumber}$`) }).waitFor(); // the guest order is theirs now
  await shopper.getByLabel("Full name").fill("Sam Shopper");
  await shopper.getByLabel("Address", { exact: true }).fill("1 Market Street");
  await shopper.getByLabel("City").fill("Berlin");
  await shopper.getByLabel("Postal code").fill("10115");
  await shopper.getByLabel("Country", { exact: true }).selectOption({ label: "Germany" });
  await shopper.getByRole("button", { name: "Save address" }).click();
  await shopper.getByText("default", { exact: true }).waitFor();
  await shot(shopper, "storefront-account");

  await shopper.getByRole("button", { name: `Order again #${orderNumber}` }).click();
  await shopper.getByRole("heading", { name: "Your cart" }).waitFor();
  await shopper.getByLabel("1 item in the cart").waitFor();
  await shot(shopper, "storefront-reorder-cart");

  // --- "find my order": the link comes by e-mail, whoever asks ------------------------------
  await shopper.goto(`${storefront}/orders`);
  await shopper.getByLabel("E-mail").fill("shopper@example.com");
  await shopper.getByLabel("Order number").fill(orderNumber);
  await shopper.getByRole("button", { name: "E-mail me the link" }).click();
  await shopper.getByText(/we have e-mailed its link there/).waitFor();
  await shot(shopper, "storefront-order-lookup");
  await shopper.goto(`${storefront}${await mailedLink("shopper@example.com", `The link to your order #${orderNumber}`, `/orders/${orderNumber}`)}`);
  await shopper.getByRole("heading", { name: `Order ${orderNumber}` }).waitFor();
  await shopper.getByText("fulfilled", { exact: true }).first().waitFor();
  await shot(shopper, "storefront-order-from-email");
  if (docsShots) {
    await shopper.goto(`${storefront}/`);
    await shopper.getByRole("link", { name: "Blue Teapot" }).first().waitFor();
    await docsShot(shopper, "storefront-home");
  }
  await axe.check(shopper, "storefront order lookup");

  // --- staff by invitation: the e-mailed link creates the account and the membership -----
  const invitee = `staff-${slug}@example.com`;
  await merchant.getByRole("link", { name: "Members", exact: true }).click();
  await merchant.getByLabel("Their e-mail").fill(invitee);
  await merchant.getByRole("button", { name: "Send invitation" }).click();
  await merchant.getByText(`Invitation sent to ${invitee}.`).waitFor();
  await shot(merchant, "admin-invitation-sent");
  const invitation = await mailedToken(invitee, "accept-invitation");
  // Last step: accepting signs the new staff member in, in place of the merchant.
  await merchant.goto(`${admin}/accept-invitation?token=${encodeURIComponent(invitation)}`);
  await merchant.getByRole("button", { name: "I have no account yet" }).click();
  await merchant.getByLabel("Your name").fill("Sam Staff");
  await merchant.getByLabel("Password").fill(password);
  await merchant.getByRole("button", { name: "Accept the invitation" }).click();
  await merchant.getByText("You joined E2E Teas as staff.").waitFor();
  await merchant.getByRole("link", { name: "Open E2E Teas" }).click();
  await merchant.getByRole("heading", { name: "E2E Teas" }).waitFor();
  await shot(merchant, "admin-invited-staff-in-shop");

  failures.push(...axe.violations);
  if (failures.length) throw new Error(failures.join("\n"));
  console.log(`axe-core: 0 violations on ${axe.checked.length} pages (${axe.checked.join(", ")})`);
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
