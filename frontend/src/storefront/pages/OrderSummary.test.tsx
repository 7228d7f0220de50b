import { render, screen } from "@testing-library/react";
import type { Order } from "../types";
import { OrderSummary } from "./Order";

const money = (amount: string) => ({ amount, currency: "EUR" });
const order = (overrides: Partial<Order>): Order =>
  ({
    number: 1042,
    status: "pending",
    email: "ada@example.com",
    currency: "EUR",
    subtotal: money("32.00"),
    total: money("32.00"),
    totals: { subtotal: money("32.00"), shipping: money("0.00"), discount: money("0.00"), tax: money("0.00"), total: money("32.00") },
    tax_lines: [],
    discounts: [],
    prices_include_tax: false,
    shipping_method: null,
    refunded_amount: money("0.00"),
    shipping_address: { name: "Ada", line1: "1 Way", line2: "", city: "Paris", postal_code: "75001", country: "FR" },
    payment_provider: "manual",
    lines: [],
    payments: [],
    placed_at: "2026-12-01T10:00:00Z",
    paid_at: null,
    fulfilled_at: null,
    cancelled_at: null,
    refunded_at: null,
    expires_at: "2026-12-02T10:00:00Z",
    ...overrides,
  }) as Order;

describe("order confirmation", () => {
  it("tells how to pay an order placed to pay later: amount, reference, deadline, the shop's details", () => {
    render(<OrderSummary order={order({})} paymentDetails={"IBAN DE89 3704 0044 0532 0130 00"} />);
    const how = screen.getByRole("region", { name: "How to pay" });
    expect(how).toHaveTextContent("Transfer €32.00 by bank transfer");
    expect(how).toHaveTextContent("Quote order 1042 as the payment reference");
    expect(how).toHaveTextContent("IBAN DE89 3704 0044 0532 0130 00");
    expect(how).toHaveTextContent("Pay by");
  });

  it("says where the bank details come from when the shop gave none", () => {
    render(<OrderSummary order={order({})} />);
    expect(screen.getByRole("region", { name: "How to pay" })).toHaveTextContent("Reply to the confirmation e-mail sent to ada@example.com");
  });

  it("gives no payment instructions for a paid card order", () => {
    render(<OrderSummary order={order({ status: "paid", payment_provider: "test", expires_at: null })} />);
    expect(screen.queryByRole("region", { name: "How to pay" })).toBeNull();
  });

  it("names the country, not its code", () => {
    render(<OrderSummary order={order({ status: "paid", payment_provider: "test", expires_at: null })} />);
    expect(screen.getByText(/75001 Paris, France/)).toBeInTheDocument();
  });

  it("lists what shipped, parcel by parcel, and says more is to come", () => {
    const line = (id: number, title: string, quantity: number) => ({ id, title, variant_title: "", quantity }) as Order["lines"][number];
    render(
      <OrderSummary
        order={order({
          status: "paid",
          payment_provider: "test",
          expires_at: null,
          fulfillment_status: "partially_fulfilled",
          lines: [line(1, "Enamel Mug", 3), line(2, "Tin Plate", 2)],
          fulfillments: [
            { id: 7, lines: [{ line: 1, quantity: 2 }], tracking_number: "PARCEL-1", carrier: "DHL", tracking_url: "https://dhl.example/t/1", created_at: "2026-12-03T10:00:00Z" },
          ],
        })}
      />,
    );
    const shipped = screen.getByRole("region", { name: "Shipped" });
    expect(shipped).toHaveTextContent("2 × Enamel Mug · DHL · tracking PARCEL-1");
    expect(shipped).not.toHaveTextContent("Tin Plate");
    expect(screen.getByRole("link", { name: "follow the parcel" })).toHaveAttribute("href", "https://dhl.example/t/1");
    expect(shipped).toHaveTextContent("The rest of your order follows in another parcel.");
  });

  it("shows no shipments before anything shipped", () => {
    render(<OrderSummary order={order({ status: "paid", payment_provider: "test", expires_at: null, fulfillments: [] })} />);
    expect(screen.queryByRole("region", { name: "Shipped" })).toBeNull();
  });

  it("shows the region the address gave (it chose the tax rate)", () => {
    const shipping_address = { name: "Ada", line1: "1 Market St", line2: "", city: "San Francisco", postal_code: "94103", country: "US", region: "CA" };
    render(<OrderSummary order={order({ status: "paid", payment_provider: "test", expires_at: null, shipping_address })} />);
    expect(screen.getByText(/94103 San Francisco, CA, United States/)).toBeInTheDocument();
  });
});
