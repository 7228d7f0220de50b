import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { answerWith, renderAdmin, type Call } from "../../testing";
import { orderingOf, sortOf, type Column } from "../../ui/DataTable";
import { ProductsPage } from "./ProductsPage";

const eur = (amount: string) => ({ amount, currency: "EUR" });
const product = (id: number, title: string, price: string) => ({
  id,
  title,
  slug: title.toLowerCase(),
  description: "",
  status: "active",
  category: null,
  attributes: {},
  vendor: "",
  tags: [] as string[],
  created_at: "2026-12-01T00:00:00Z",
  updated_at: "2026-12-02T00:00:00Z",
  images: [
    {
      id: id * 10,
      url: `/media/${id}.png`,
      thumbnail_url: `/media/${id}.webp`,
      renditions: [160, 320].map((width) => ({ url: `/media/${id}-${width}w.webp`, width, height: width })),
      alt: "",
      position: 0,
      status: "ready",
    },
  ],
  variants: [{ id: id * 100, sku: `S-${id}`, title: "", price: eur(price), compare_at_price: null, stock: id, low_stock_threshold: 5, options: {} }],
});
const LIST = { path: "/s/teas/products", route: "/s/:slug/products" };

/** The API as the server sorts it: the page a query asks for, with a cursor to the next one. */
function pageFor(call: Call) {
  const { ordering } = call.query;
  if (!ordering) return { body: { results: [product(3, "Teapot", "9.00"), product(1, "Cup", "30.00")], next: null, previous: null } };
  if (!call.query.cursor) {
    return {
      body: {
        results: ordering === "price" ? [product(3, "Teapot", "9.00"), product(2, "Bowl", "12.00")] : [product(1, "Cup", "30.00")],
        next: `http://teas.localhost/api/admin/v1/products?cursor=NEXT-${ordering}&ordering=${ordering}`,
        previous: null,
      },
    };
  }
  return { body: { results: [product(1, "Cup", "30.00")], next: null, previous: "x" } };
}

const titles = () =>
  screen
    .getAllByRole("row")
    .slice(1)
    .map((row) => within(row).getAllByRole("link")[0]!.textContent);

describe("the products table", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("asks the API to sort, and keeps that order when it loads the next page", async () => {
    const calls = answerWith({ "GET /api/admin/v1/products": pageFor });
    renderAdmin(<ProductsPage />, LIST);
    expect(await screen.findByRole("link", { name: "Teapot" })).toBeInTheDocument();
    // Only what the API can sort by has a sort button.
    expect(within(screen.getByRole("columnheader", { name: "Status" })).queryByRole("button")).toBeNull();
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: /Price/ }));
    expect(await screen.findByRole("link", { name: "Bowl" })).toBeInTheDocument();
    expect(screen.getByRole("columnheader", { name: /Price/ })).toHaveAttribute("aria-sort", "ascending");
    expect(titles()).toEqual(["Teapot", "Bowl"]); // as the server sent them
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByRole("link", { name: "Cup" })).toBeInTheDocument();
    const lists = calls.filter((call) => call.path === "/api/admin/v1/products").map((call) => call.query);
    expect(lists.at(-1)).toEqual({ ordering: "price", cursor: "NEXT-price" });
    await user.click(screen.getByRole("button", { name: /Price/ }));
    expect(await screen.findByRole("columnheader", { name: /Price/ })).toHaveAttribute("aria-sort", "descending");
    const last = calls.filter((call) => call.path === "/api/admin/v1/products").at(-1)!;
    expect(last.query).toEqual({ ordering: "-price" });
  });

  it("shows each product's smallest stored width as its thumbnail", async () => {
    answerWith({ "GET /api/admin/v1/products": pageFor });
    renderAdmin(<ProductsPage />, LIST);
    await screen.findByRole("link", { name: "Teapot" });
    const thumb = screen.getAllByRole("row")[1]!.querySelector("img.thumb");
    expect(thumb?.getAttribute("src")).toMatch(/\/media\/3-160w\.webp$/);
  });
});

describe("orderings", () => {
  const columns: Column<{ id: number }>[] = [
    { id: "name", header: "Name", ordering: "title", cell: () => null },
    { id: "note", header: "Note", cell: () => null },
  ];

  it("turns a sort into the API's ordering and back", () => {
    expect(orderingOf({ column: "name", direction: "descending" }, columns)).toBe("-title");
    expect(orderingOf({ column: "name", direction: "ascending" }, columns)).toBe("title");
    expect(orderingOf({ column: "note", direction: "ascending" }, columns)).toBeUndefined();
    expect(sortOf("-title", columns)).toEqual({ column: "name", direction: "descending" });
    expect(sortOf("bogus", columns)).toBeNull();
  });
});
