import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { storefrontClient } from "../../api/client";
import { StorefrontApiProvider } from "../api";
import { validateCheckout } from "./Checkout";
import { ProductPage } from "./Product";

const product = (inStock: boolean) => ({
  id: 7,
  title: "Blue Teapot",
  slug: "blue-teapot",
  description: "Holds a litre.",
  category: null,
  attributes: { color: "blue" },
  attributes_shown: [{ key: "color", label: "Colour", value: "blue" }],
  images: [],
  variants: [
    { id: 11, sku: "TEA-1", title: "", options: {}, price: { amount: "24.50", currency: "EUR" }, compare_at_price: null, in_stock: inStock },
  ],
});

function renderProduct(fetchImpl: (request: Request) => Promise<Response>) {
  vi.stubGlobal("fetch", vi.fn(fetchImpl)); // before the client, which keeps the fetch it finds
  const client = storefrontClient("http://shop.localhost");
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <StorefrontApiProvider client={client}>
        <MemoryRouter initialEntries={["/products/blue-teapot"]}>
          <Routes>
            <Route path="/products/:slug" element={<ProductPage />} />
          </Routes>
        </MemoryRouter>
      </StorefrontApiProvider>
    </QueryClientProvider>,
  );
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

describe("product page", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    window.localStorage.clear();
  });

  it("shows price and stock, and says why the cart refused", async () => {
    renderProduct(async (request) => {
      const path = new URL(request.url).pathname;
      if (path.endsWith("/products/blue-teapot")) return json(product(true));
      if (path.endsWith("/carts")) return json({ id: "c1", lines: [], subtotal: { amount: "0.00", currency: "EUR" }, item_count: 0 }, 201);
      return json({ type: "x", title: "Not enough stock", status: 409, detail: "Only 1 of TEA-1 left.", code: "insufficient_stock" }, 409);
    });
    expect(await screen.findByRole("heading", { name: "Blue Teapot" })).toBeInTheDocument();
    expect(screen.getByText("€24.50")).toBeInTheDocument();
    expect(screen.getByText("In stock")).toBeInTheDocument();
    const quantity = screen.getByLabelText("Quantity");
    await userEvent.clear(quantity);
    await userEvent.type(quantity, "5");
    await userEvent.click(screen.getByRole("button", { name: "Add to cart" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Not enough stock: Only 1 of TEA-1 left.");
  });

  it("cannot add an item that is out of stock", async () => {
    renderProduct(async () => json(product(false)));
    const button = await screen.findByRole("button", { name: "Out of stock" });
    expect(button).toBeDisabled();
  });

  it("says a missing product is not found, and offers browsing instead of trying again", async () => {
    renderProduct(async () => json({ type: "x", title: "Not found", status: 404, detail: "No such product in this shop." }, 404));
    expect(await screen.findByRole("heading", { name: "Product not found" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Browse all products" })).toHaveAttribute("href", "/");
    expect(screen.queryByRole("button", { name: "Try again" })).toBeNull();
  });

  it("offers to try again when the shop could not answer", async () => {
    renderProduct(async () => json({ type: "x", title: "Server error", status: 500, detail: "" }, 500));
    expect(await screen.findByRole("button", { name: "Try again" })).toBeInTheDocument();
  });
});

describe("product presentation", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("offers options as buttons, colours as swatches, and shows the chosen one's price", async () => {
    const variant = (id: number, colour: string, price: string, inStock = true) => ({
      id, sku: `TEA-${id}`, title: "", options: { colour }, price: { amount: price, currency: "EUR" }, compare_at_price: null, in_stock: inStock,
    });
    renderProduct(async () =>
      json({ ...product(true), variants: [variant(1, "navy", "24.50"), variant(2, "red", "26.00"), variant(3, "green", "20.00", false)] }),
    );
    const group = await screen.findByRole("group", { name: "Option" });
    expect(screen.queryByRole("combobox")).toBeNull();
    expect(screen.getByRole("radio", { name: "navy" })).toBeChecked();
    await userEvent.click(screen.getByRole("radio", { name: "red" }));
    expect(screen.getByText("€26.00")).toBeInTheDocument();
    expect(screen.getByRole("radio", { name: "green (sold out)" })).toBeInTheDocument();
    expect(group.querySelectorAll(".swatch")).toHaveLength(3);
  });

  it("shows one large picture to zoom and the others as thumbnails", async () => {
    const widths = (id: number) => [160, 320, 500].map((width) => ({ url: `/media/${id}-${width}w.webp`, width, height: width / 2 }));
    const image = (id: number) => ({ id, url: `/media/${id}.png`, thumbnail_url: `/media/${id}.webp`, renditions: widths(id), alt: `Teapot ${id}`, position: id, status: "ready" });
    renderProduct(async () => json({ ...product(true), images: [image(1), image(2)] }));
    const main = await screen.findByRole("img", { name: "Teapot 1" });
    // Every stored width offered; the browser picks by `sizes`. The first picture is the page's main one.
    expect(main).toHaveAttribute("srcset", "/media/1-160w.webp 160w, /media/1-320w.webp 320w, /media/1-500w.webp 500w");
    expect(main).toHaveAttribute("sizes", "(max-width: 720px) calc(100vw - 2rem), 540px");
    expect(main).toHaveAttribute("src", "/media/1-320w.webp");
    expect(main).toHaveAttribute("loading", "eager");
    expect(main).toHaveAttribute("fetchpriority", "high");
    const thumbs = screen.getByRole("list", { name: "Pictures" }).querySelectorAll("img");
    expect([...thumbs].map((thumb) => [thumb.getAttribute("loading"), thumb.getAttribute("sizes")])).toEqual([
      ["lazy", "72px"],
      ["lazy", "72px"],
    ]);
    await userEvent.click(screen.getByRole("button", { name: "Show picture 2 of 2" }));
    expect(screen.getByRole("img", { name: "Teapot 2" })).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Zoom in: Teapot 2" }));
    const dialog = screen.getByRole("dialog", { name: "Teapot 2" });
    expect(dialog.querySelector("img")).toHaveAttribute("src", "/media/2.png");
    await userEvent.click(screen.getByRole("button", { name: "Close" }));
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("lists the attributes as the API labels and orders them (the category schema's titles)", async () => {
    const shown = [
      { key: "finish", label: "Finish", value: "Speckled enamel" },
      { key: "capacity_ml", label: "Capacity", value: "350" },
      { key: "dishwasher_safe", label: "Dishwasher safe", value: "No" },
    ];
    renderProduct(async () => json({ ...product(true), attributes: { capacity_ml: 350 }, attributes_shown: shown }));
    await screen.findByRole("heading", { name: "Blue Teapot" });
    const terms = [...document.querySelectorAll("dl.attributes dt")].map((term) => term.textContent);
    const values = [...document.querySelectorAll("dl.attributes dd")].map((value) => value.textContent);
    expect(terms).toEqual(["Finish", "Capacity", "Dishwasher safe"]);
    expect(values).toEqual(["Speckled enamel", "350", "No"]);
    expect(screen.queryByText("capacity_ml")).toBeNull();
  });
});

describe("checkout form", () => {
  it("checks the address and card before sending", () => {
    const errors = validateCheckout({
      email: "not-an-email",
      name: "",
      line1: "1 Road",
      line2: "",
      city: "Berlin",
      postal_code: "10115",
      country: "Germany",
      region: "",
      provider: "test",
      card_number: "4242",
    });
    expect(Object.keys(errors).sort()).toEqual(["card_number", "country", "email", "name"]);
  });

  it("takes a region only from the chosen country's list (none is fine)", () => {
    const form = { email: "a@b.co", name: "Ada", line1: "1 Road", line2: "", city: "LA", postal_code: "90001", country: "US", region: "CA", provider: "test", card_number: "4242424242424242" };
    const regions = [{ code: "CA", name: "California", type: "State" }];
    expect(validateCheckout(form, regions)).toEqual({});
    expect(validateCheckout({ ...form, region: "" }, regions)).toEqual({});
    expect(validateCheckout({ ...form, region: "ZZ" }, regions)).toEqual({ region: ["Choose a region of this country."] });
    expect(validateCheckout({ ...form, region: "ZZ" })).toEqual({}); // not read yet: the API checks it
  });
});
