import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Onboarding } from "./Onboarding";
import { answerWith, renderAdmin } from "./testing";

describe("the onboarding checklist", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    localStorage.clear();
  });

  it("reads what it can from the shop, and lets the merchant tick the rest", async () => {
    answerWith({
      "GET /api/admin/v1/products": { body: { results: [{ id: 1 }], next: null } },
      "GET /api/admin/v1/orders": { body: { results: [], next: null } },
    });
    renderAdmin(<Onboarding />);
    expect(await screen.findByText("1 of 4 done")).toBeInTheDocument();
    const item = (name: string) => screen.getByRole("link", { name: new RegExp(name) }).closest("li")!;
    expect(item("Add a product")).toHaveClass("done");
    expect(screen.getByRole("link", { name: /Add a product/ })).toHaveAttribute("href", "/s/teas/page/products/new");
    expect(item("Place a test order")).not.toHaveClass("done");
    expect(screen.getByRole("link", { name: /Place a test order/ }).getAttribute("href")).toMatch(/^http:\/\/teas\.localhost/);
    // Derived steps have no tick button; the others do.
    expect(within(item("Add a product")).queryByRole("button")).toBeNull();
    const user = userEvent.setup();
    await user.click(within(item("Customise the theme")).getByRole("button", { name: "Mark as done" }));
    expect(screen.getByText("2 of 4 done")).toBeInTheDocument();
    expect(JSON.parse(localStorage.getItem("storefleet.onboarding.teas")!).ticked).toEqual(["theme"]);
    await user.click(screen.getByRole("button", { name: "Hide checklist" }));
    expect(screen.queryByText(/of 4 done/)).toBeNull();
  });
});
