import { render, screen } from "@testing-library/react";
import { bytes, Meter } from "./Billing";

describe("plan and usage", () => {
  it("shows what the shop uses beside its limit", () => {
    render(<Meter label="Products" used={3} limit={100} />);
    expect(screen.getByText(/3 of 100/)).toBeInTheDocument();
    const meter = screen.getByRole("meter", { name: "Products" });
    expect(meter).toHaveAttribute("value", "3");
    expect(meter).toHaveAttribute("max", "100");
  });

  it("says so when a figure cannot be read right now", () => {
    render(<Meter label="API calls" used={null} limit={100000} />);
    expect(screen.getByText(/unknown right now of 100,000/)).toBeInTheDocument();
  });

  it("writes storage sizes for people", () => {
    expect(bytes(100 * 1024 * 1024)).toBe("100.0 MB");
    expect(bytes(2.5 * 1024 ** 3)).toBe("2.5 GB");
    expect(bytes(2048)).toBe("2 KB");
  });
});
