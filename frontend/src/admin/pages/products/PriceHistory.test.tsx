import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Product } from "../../types";
import { answerWith, renderAdmin } from "../../testing";
import { chartOf, daysBefore, daysBetween, type VariantHistory } from "./priceHistory";
import { PriceChart, PriceHistorySection } from "./PriceHistoryChart";

const eur = (amount: string) => ({ amount, currency: "EUR" as const });
const day = (date: string, min: string, max: string, close: string, changes = 1) => ({
  date,
  min: eur(min),
  max: eur(max),
  close: eur(close),
  changes,
});
const MUG: VariantHistory = {
  id: 3,
  sku: "MUG-1",
  title: "",
  opening: day("2026-10-30", "10.00", "10.00", "10.00"),
  days: [day("2026-11-03", "10.00", "14.00", "12.00", 2), day("2026-11-08", "8.00", "12.00", "8.00")],
};

describe("the price chart's geometry", () => {
  it("counts days in UTC", () => {
    expect(daysBetween("2026-11-01", "2026-11-10")).toBe(9);
    expect(daysBetween("2026-03-28", "2026-03-30")).toBe(2); // across a DST change elsewhere
    expect(daysBefore("2026-03-01", 1)).toBe("2026-02-28");
  });

  it("draws the close as steps from the opening price and a whisker per changed day", () => {
    // Ten days over 100 px: 10 px a day; prices 8..14 over 60 px: 10 px per euro.
    const chart = chartOf(MUG, "2026-11-01", "2026-11-10", 100, 60);
    expect([chart.low, chart.high]).toEqual([8, 14]);
    expect(chart.path).toBe("M0,40H20V20H70V60H100");
    expect(chart.whiskers).toEqual([
      { date: "2026-11-03", x: 25, low: 40, high: 0 },
      { date: "2026-11-08", x: 75, low: 60, high: 20 },
    ]);
  });

  it("starts at the first change when nothing came before, and centres a flat price", () => {
    const created = { ...MUG, opening: null, days: [day("2026-11-05", "9.00", "9.00", "9.00")] };
    const chart = chartOf(created, "2026-11-01", "2026-11-10", 100, 60);
    expect(chart.path).toBe("M40,30H100");
    expect(chartOf({ ...MUG, opening: null, days: [] }, "2026-11-01", "2026-11-10", 100, 60).path).toBe("");
  });
});

describe("the price chart", () => {
  it("is an image named and described for screen readers, with the days as a focusable table", () => {
    render(<PriceChart history={MUG} from="2026-11-01" to="2026-11-10" />);
    const image = screen.getByRole("img", { name: /Price of MUG-1 from 2026-11-01 to 2026-11-10/ });
    expect(image).toHaveAccessibleDescription(/Opened at €10\.00\. 3 price changes on 2 days; lowest €8\.00, highest €14\.00; closed at €8\.00\./);
    const table = screen.getByRole("region", { name: "Price changes of MUG-1" });
    expect(table).toHaveAttribute("tabindex", "0");
    const rows = within(table).getAllByRole("row");
    expect(rows.map((row) => row.textContent)).toEqual([
      "Day (UTC)LowestHighestCloseChanges",
      "2026-10-30 (before the range)€10.00€10.00€10.001",
      "2026-11-03€10.00€14.00€12.002",
      "2026-11-08€8.00€12.00€8.001",
    ]);
  });

  it("says so when the range has no price", () => {
    render(<PriceChart history={{ ...MUG, opening: null, days: [] }} from="2026-11-01" to="2026-11-10" />);
    expect(screen.getByText("No price recorded for MUG-1 in this range.")).toBeInTheDocument();
    expect(screen.queryByRole("img")).toBeNull();
  });
});

describe("the product's price history", () => {
  const product = {
    id: 7,
    variants: [
      { id: 3, sku: "MUG-1", title: "" },
      { id: 4, sku: "MUG-2", title: "Large" },
    ],
  } as unknown as Product;

  it("asks for one variant over the chosen range ending today", async () => {
    const calls = answerWith({
      "GET /api/admin/v1/products/7/price-history": (call) => ({
        body: {
          product: 7,
          date_from: call.query.from,
          date_to: call.query.to,
          variants: [call.query.variant === "4" ? { ...MUG, id: 4, sku: "MUG-2" } : MUG],
        },
      }),
    });
    renderAdmin(<PriceHistorySection product={product} today="2026-11-10" />);
    expect(await screen.findByRole("img", { name: /Price of MUG-1 from 2026-08-13 to 2026-11-10/ })).toBeInTheDocument();
    expect(calls.at(-1)?.query).toEqual({ variant: "3", from: "2026-08-13", to: "2026-11-10" });

    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText("Variant"), "MUG-2 — Large");
    expect(await screen.findByRole("img", { name: /Price of MUG-2/ })).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText("Range"), "30 days");
    await waitFor(() => expect(calls.at(-1)?.query).toEqual({ variant: "4", from: "2026-10-12", to: "2026-11-10" }));
  });

  it("shows the problem when the history cannot be read", async () => {
    answerWith({
      "GET /api/admin/v1/products/7/price-history": {
        status: 400,
        body: { type: "about:blank", title: "Invalid", status: 400, detail: "Bad range.", code: "validation_error" },
      },
    });
    renderAdmin(<PriceHistorySection product={product} today="2026-11-10" />);
    expect(await screen.findByRole("button", { name: /Retry|Try again/ })).toBeInTheDocument();
  });
});
