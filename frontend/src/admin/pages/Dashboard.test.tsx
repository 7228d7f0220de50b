import { render, screen } from "@testing-library/react";
import { RevenueChart, SalesFigures } from "./Dashboard";
import { slugify } from "./Shops";
import { validateVariant } from "./products/variants";

const eur = (amount: string) => ({ amount, currency: "EUR" as const });

describe("admin pieces", () => {
  it("draws one bar a day, scaled to the best day", () => {
    const day = (date: string, revenue: string, orders: number) => ({
      date,
      orders,
      gross_sales: eur(revenue),
      revenue: eur(revenue),
      refunds: eur("0.00"),
      average_order_value: eur("0.00"),
      items_sold: orders,
      discounts: eur("0.00"),
      tax: eur("0.00"),
      shipping: eur("0.00"),
    });
    const { container } = render(
      <RevenueChart
        report={{
          from: "2026-11-01",
          to: "2026-11-03",
          currency: "EUR",
          totals: { orders: 3, gross_sales: eur("30.00"), revenue: eur("30.00"), refunds: eur("0.00"), average_order_value: eur("10.00"), items_sold: 3, discounts: eur("0.00"), tax: eur("0.00"), shipping: eur("0.00") },
          days: [day("2026-11-01", "10.00", 1), day("2026-11-02", "0.00", 0), day("2026-11-03", "20.00", 2)],
          top_products: [],
        }}
      />,
    );
    expect(screen.getByRole("img", { name: "Daily revenue from 2026-11-01 to 2026-11-03" })).toBeInTheDocument();
    const heights = Array.from(container.querySelectorAll("rect")).map((rect) => Number(rect.getAttribute("height")));
    expect(heights).toEqual([80, 0, 160]);
  });

  it("shows the average order beside the gross sales it is taken of, and net revenue after refunds", () => {
    render(
      <SalesFigures
        totals={{ orders: 4, gross_sales: eur("200.00"), refunds: eur("50.00"), revenue: eur("150.00"), average_order_value: eur("50.00"), items_sold: 9, discounts: eur("0.00"), tax: eur("0.00"), shipping: eur("0.00") }}
      />,
    );
    const figure = (label: string) => screen.getByText(label, { selector: "dt" }).nextElementSibling?.textContent;
    expect(figure("Gross sales")).toBe("€200.00");
    expect(figure("Net revenue")).toBe("€150.00");
    expect(figure("Refunds")).toBe("€50.00");
    // 200.00 / 4 orders: the average is of the gross figure, not of revenue after refunds (37.50).
    expect(figure("Average order")).toBe("€50.00");
    expect(screen.getByText("Gross sales ÷ orders")).toBeInTheDocument();
    expect(screen.queryByText("Revenue", { selector: "dt" })).toBeNull();
  });

  it("suggests a slug from the shop's name", () => {
    expect(slugify("Café  Olé & Sons!")).toBe("cafe-ole-sons");
  });

  it("checks a variant before it is sent", () => {
    expect(validateVariant({ sku: "", title: "", price: "12.345", compare_at_price: "", stock: "-1", low_stock_threshold: "5" })).toEqual({
      sku: "SKU is required.",
      price: "Price like 19.99.",
      stock: "A whole number.",
    });
  });
});
