import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { storefrontClient } from "../../api/client";
import { StorefrontApiProvider } from "../api";
import { CartPage } from "./Cart";
import { CheckoutPage } from "./Checkout";

vi.setConfig({ testTimeout: 20_000 }); // typing a whole address takes seconds on a busy machine

const money = (amount: string) => ({ amount, currency: "EUR" });
const cart = {
  id: "c".repeat(32),
  lines: [
    {
      id: 11,
      variant: 11,
      product: 7,
      sku: "TEA-1",
      title: "Blue Teapot",
      variant_title: "",
      quantity: 1,
      unit_price: money("24.50"),
      line_total: money("24.50"),
      available: true,
    },
  ],
  subtotal: money("24.50"),
  item_count: 1,
  shipping_address: null,
  shipping_method: null,
  discount_codes: [],
  discounts: [],
  prices_include_tax: false,
  totals: {
    subtotal: money("24.50"),
    shipping: money("0.00"),
    discount: money("0.00"),
    tax: money("0.00"),
    total: money("24.50"),
  },
  tax_lines: [],
};
const US_REGIONS = [
  { code: "CA", name: "California", type: "State" },
  { code: "NY", name: "New York", type: "State" },
];
const placed = { number: 1001, token: "secret-token", status: "paid", lines: [], total: money("24.50") };

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });
const problem = (status: number, code: string, extra: Record<string, unknown> = {}) =>
  json({ type: "x", title: `Problem ${code}`, status, detail: "", code, ...extra }, status);

function renderAt(
  path: string,
  checkoutAnswers: Array<() => Response | Promise<Response>>,
  cartAnswer = () => json(cart),
  providers = ["test"],
) {
  const keys: Array<string | null> = [];
  const bodies: unknown[] = [];
  const addresses: unknown[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const url = new URL(request.url).pathname;
      if (url.endsWith("/checkout")) {
        keys.push(request.headers.get("Idempotency-Key"));
        bodies.push(await request.clone().json());
        const answer = checkoutAnswers.shift();
        if (!answer) throw new Error("unexpected checkout");
        return answer();
      }
      if (url.endsWith("/payment-methods")) return json({ providers });
      if (url.endsWith("/shipping-methods")) return json([]);
      if (url.endsWith("/regions")) return json(url.includes("/US/") ? US_REGIONS : []);
      if (url.endsWith("/shipping-address")) {
        const address = await request.clone().json();
        addresses.push(address);
        return json({ ...cart, shipping_address: address });
      }
      return cartAnswer();
    }),
  );
  window.localStorage.setItem("storefleet.cart", cart.id);
  const client = storefrontClient("http://shop.localhost");
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <StorefrontApiProvider client={client}>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route path="/cart" element={<CartPage />} />
            <Route path="/checkout" element={<CheckoutPage />} />
            <Route path="/orders/:number" element={<p>Order page</p>} />
          </Routes>
        </MemoryRouter>
      </StorefrontApiProvider>
    </QueryClientProvider>,
  );
  return Object.assign(keys, { bodies, addresses });
}

async function fillAndPay() {
  await userEvent.type(await screen.findByLabelText("E-mail"), "ada@example.com");
  await userEvent.type(screen.getByLabelText("Full name"), "Ada Lovelace");
  await userEvent.type(screen.getByLabelText("Address"), "1 Analytical Way");
  await userEvent.type(screen.getByLabelText("City"), "London");
  await userEvent.type(screen.getByLabelText("Postal code"), "N1 7AA");
  await userEvent.selectOptions(screen.getByLabelText("Country"), "United Kingdom");
  await userEvent.type(screen.getByLabelText("Card number"), "4242424242424242");
}

const pay = () => userEvent.click(screen.getByRole("button", { name: /^Pay/ }));

describe("checkout attempts", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    window.localStorage.clear();
    window.sessionStorage.clear();
  });

  it("sends the same Idempotency-Key again until the checkout gets a final answer", async () => {
    const keys = renderAt("/checkout", [
      () => Promise.reject(new TypeError("Failed to fetch")), // no answer: it may have been placed
      () => problem(500, "server_error"),
      () => problem(409, "idempotency_request_in_flight"),
      () => json(placed, 201),
    ]);
    await fillAndPay();
    for (let attempt = 0; attempt < 3; attempt++) {
      await pay();
      expect(await screen.findByRole("alert")).toBeInTheDocument();
    }
    await pay();
    expect(await screen.findByText("Order page")).toBeInTheDocument();
    expect(keys).toHaveLength(4);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(window.localStorage.getItem("storefleet.cart")).toBeNull();
    expect(Object.keys(window.sessionStorage).filter((key) => key.startsWith("storefleet.checkout-attempt"))).toEqual([]);
  });

  it("starts a new attempt after a refusal, or when the order itself changed", async () => {
    const keys = renderAt("/checkout", [
      () => problem(402, "payment_declined"),
      () => problem(500, "server_error"),
      () => problem(500, "server_error"),
    ]);
    await fillAndPay();
    await pay();
    expect(await screen.findByRole("alert")).toHaveTextContent("Payment declined");
    await pay(); // paying again after a decline is a new payment
    await screen.findByText(/went wrong on our side/);
    await userEvent.type(screen.getByLabelText("Address line 2 (optional)"), "Flat 2");
    await pay(); // another address: another order
    await screen.findAllByRole("alert");
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
  });

  it("explains a cart that was already ordered, with its number", async () => {
    renderAt("/checkout", [() => problem(409, "cart_checked_out", { order: 1042 })]);
    await fillAndPay();
    await pay();
    expect(await screen.findByRole("status")).toHaveTextContent("This cart was already ordered as order #1042");
    expect(window.localStorage.getItem("storefleet.cart")).toBeNull();
  });
});

describe("a lost cart", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    window.localStorage.clear();
    window.sessionStorage.clear();
  });

  it("is explained on the cart page, not shown as an empty cart", async () => {
    renderAt("/cart", [], () => problem(404, "cart_not_found"));
    expect(await screen.findByRole("alert")).toHaveTextContent("We could not find your cart any more");
    expect(screen.queryByText(/Your cart is empty/)).toBeNull();
    expect(window.localStorage.getItem("storefleet.cart")).toBeNull();
  });

  it("is explained when it is lost at checkout", async () => {
    renderAt("/checkout", [() => problem(404, "cart_not_found")]);
    await fillAndPay();
    await pay();
    expect(await screen.findByRole("alert")).toHaveTextContent("nothing was ordered or charged");
  });
});

describe("the address and the payment choice", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    window.localStorage.clear();
    window.sessionStorage.clear();
  });

  it("takes the country by name and sends its ISO code (France is FR, Germany is DE, not Georgia)", async () => {
    const sent = renderAt("/checkout", [() => json(placed, 201)]);
    await fillAndPay();
    const country = screen.getByLabelText("Country");
    expect(country.tagName).toBe("SELECT");
    await userEvent.selectOptions(country, "Germany");
    expect(country).toHaveValue("DE");
    await userEvent.selectOptions(country, "France");
    await pay();
    await screen.findByText("Order page");
    expect((sent.bodies[0] as { shipping_address: { country: string } }).shipping_address.country).toBe("FR");
  });

  it("asks for a country instead of sending none", async () => {
    const sent = renderAt("/checkout", []);
    await userEvent.type(await screen.findByLabelText("E-mail"), "ada@example.com");
    await pay();
    expect(screen.getByLabelText("Country")).toHaveAccessibleDescription("Choose a country.");
    expect(sent).toHaveLength(0);
  });

  it("does not say Pay when the shopper chose to pay later", async () => {
    const sent = renderAt("/checkout", [() => json({ ...placed, status: "pending" }, 201)], () => json(cart), ["test", "manual"]);
    await fillAndPay();
    expect(screen.getByRole("button", { name: "Pay €24.50" })).toBeInTheDocument();
    await screen.findByRole("option", { name: "Pay later (bank transfer)" });
    await userEvent.selectOptions(screen.getByLabelText("Payment method"), "manual");
    expect(screen.queryByRole("button", { name: /^Pay / })).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Place order, pay later" }));
    await screen.findByText("Order page");
    expect((sent.bodies[0] as { payment_method: { provider: string } }).payment_method.provider).toBe("manual");
  });

  it("offers the chosen country's regions and sends the region with the address, for regional tax", async () => {
    const sent = renderAt("/checkout", [() => json(placed, 201)]);
    await fillAndPay();
    expect(screen.queryByLabelText("State / province (optional)")).toBeNull(); // none listed for GB here
    await userEvent.selectOptions(screen.getByLabelText("Country"), "United States");
    const region = await screen.findByLabelText("State / province (optional)");
    expect(region).toHaveAttribute("autocomplete", "address-level1");
    await userEvent.selectOptions(region, "California");
    await userEvent.click(screen.getByRole("button", { name: "Show shipping options for this address" }));
    await screen.findByText("No shipping charge for this address.");
    expect(sent.addresses[0]).toMatchObject({ country: "US", region: "CA" });
    await userEvent.selectOptions(screen.getByLabelText("Country"), "France");
    expect(screen.queryByLabelText("State / province (optional)")).toBeNull(); // the region went with the country
    await pay();
    await screen.findByText("Order page");
    expect((sent.bodies[0] as { shipping_address: { region: string } }).shipping_address).toMatchObject({ country: "FR", region: "" });
  });
});
