import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { storefrontClient } from "../../api/client";
import { StorefrontApiProvider } from "../api";
import { OrderPage } from "./Order";

const money = (amount: string) => ({ amount, currency: "EUR" });
const address = { name: "Ada", line1: "1 Way", line2: "", city: "London", postal_code: "N1", country: "GB" };
const pending = {
  number: 1001,
  status: "pending",
  payment_status: "pending",
  fulfillment_status: "unfulfilled",
  payment_action_url: "/checkout/authenticate?payment=k",
  placed_at: "2026-12-04T10:00:00Z",
  expires_at: "2026-12-04T10:30:00Z",
  lines: [],
  total: money("24.50"),
  totals: { subtotal: money("24.50"), shipping: money("0.00"), discount: money("0.00"), tax: money("0.00"), total: money("24.50") },
  tax_lines: [],
  discounts: [],
  prices_include_tax: false,
  shipping_method: null,
  shipping_address: address,
};

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });

function renderOrder(confirmAnswer: () => Response) {
  const confirmations: unknown[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      if (new URL(request.url).pathname.endsWith("/payment-confirmation")) {
        confirmations.push(await request.json());
        return confirmAnswer();
      }
      return json(pending);
    }),
  );
  window.localStorage.setItem("storefleet.cart", "c".repeat(32));
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <StorefrontApiProvider client={storefrontClient("http://shop.localhost")}>
        <MemoryRouter initialEntries={["/orders/1001?token=tok"]}>
          <Routes>
            <Route path="/orders/:number" element={<OrderPage />} />
          </Routes>
        </MemoryRouter>
      </StorefrontApiProvider>
    </QueryClientProvider>,
  );
  return confirmations;
}

describe("a payment that requires 3-D Secure", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    window.localStorage.clear();
  });

  it("asks the shopper to confirm, then shows the order paid and forgets the cart", async () => {
    const confirmations = renderOrder(() => json({ ...pending, status: "paid", payment_status: "paid", payment_action_url: null, expires_at: null }));
    await userEvent.click(await screen.findByRole("button", { name: "Approve payment" }));
    expect(await screen.findAllByText("paid")).not.toHaveLength(0);
    expect(confirmations).toEqual([{ token: "tok", details: { authentication: "approve" } }]);
    expect(screen.queryByRole("button", { name: "Approve payment" })).toBeNull();
    expect(window.localStorage.getItem("storefleet.cart")).toBeNull();
  }, 20_000);

  it("keeps the cart when the bank declines", async () => {
    renderOrder(() =>
      json({ type: "x", title: "Payment declined", status: 402, detail: "Declined.", code: "payment_declined" }, 402),
    );
    await userEvent.click(await screen.findByRole("button", { name: "Decline" }));
    expect(await screen.findByText(/Your cart is kept/)).toBeTruthy();
    expect(window.localStorage.getItem("storefleet.cart")).toBe("c".repeat(32));
  }, 20_000);
});
