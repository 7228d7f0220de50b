import type { Order } from "../types";
import { captureFromDraft, parcelFromDraft, unitsToShip } from "./OrderTools";

type Line = Order["lines"][number];
const line = (id: number, quantity: number, fulfilled = 0, restocked = 0) =>
  ({ id, sku: `SKU-${id}`, quantity, fulfilled_quantity: fulfilled, restocked_quantity: restocked, refunded_quantity: restocked }) as Line;
const order = (...lines: Line[]) => ({ lines }) as Order;

describe("shipping an order in parcels", () => {
  it("counts what is left to ship: not what shipped, nor what went back into stock", () => {
    expect(unitsToShip(line(1, 3))).toBe(3);
    expect(unitsToShip(line(1, 3, 2))).toBe(1);
    expect(unitsToShip(line(1, 3, 1, 2))).toBe(0);
    expect(unitsToShip(line(1, 3, 3, 1))).toBe(0); // shipped, then returned: nothing more
  });

  it("sends the units asked, skipping lines left at 0 and lines with nothing left", () => {
    const placed = order(line(1, 3), line(2, 2, 2), line(3, 4));
    expect(parcelFromDraft(placed, { 1: "2", 3: "" })).toEqual({ lines: [{ line: 1, quantity: 2 }], errors: {} });
    expect(parcelFromDraft(placed, { 1: " 3 ", 3: "4" }).lines).toEqual([
      { line: 1, quantity: 3 },
      { line: 3, quantity: 4 },
    ]);
  });

  it("refuses more than is left, negatives, fractions and nothing at all, keyed as the API keys them", () => {
    const placed = order(line(1, 3), line(2, 2, 2), line(3, 4));
    expect(parcelFromDraft(placed, { 3: "5" }).errors).toEqual({ "lines.1.quantity": ["Between 0 and 4."] });
    for (const bad of ["-1", "1.5", "two", "1e3", "99999999999999999999"]) {
      expect(parcelFromDraft(placed, { 1: bad }).errors).toEqual({ "lines.0.quantity": ["Between 0 and 3."] });
    }
    expect(parcelFromDraft(placed, { 1: "0", 3: "" })).toEqual({ lines: [], errors: { lines: ["Choose at least one unit to ship."] } });
  });
});

describe("capturing an authorized card", () => {
  it("captures all without an amount, or more than 0 up to what was authorized", () => {
    expect(captureFromDraft("", "20.00")).toEqual({ errors: {} });
    expect(captureFromDraft("12,50", "20.00")).toEqual({ amount: "12.50", errors: {} });
    expect(captureFromDraft("20.00", "20.00")).toEqual({ amount: "20.00", errors: {} });
  });

  it("refuses more than authorized, zero and what is not an amount", () => {
    expect(captureFromDraft("20.01", "20.00").errors).toEqual({ amount: ["At most 20.00."] });
    for (const bad of ["0", "-5", "abc", "1.234"]) expect(captureFromDraft(bad, "20.00").errors).toEqual({ amount: ["An amount like 12.50."] });
  });
});
