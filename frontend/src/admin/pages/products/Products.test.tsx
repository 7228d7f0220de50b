import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { answerWith, renderAdmin } from "../../testing";
import { EditProductPage } from "./EditProductPage";
import { moveItem } from "./images";
import { NewProductPage } from "./NewProductPage";

vi.mock("../../upload", () => ({
  sendUpload: vi.fn(async (_upload: unknown, _file: File, _origin: string, onProgress: (f: number) => void) => onProgress(1)),
}));

const eur = (amount: string) => ({ amount, currency: "EUR" });
const image = (id: number, alt: string) => ({ id, url: `/media/${id}.png`, thumbnail_url: null, alt, position: id, status: "ready" });
const PRODUCT = {
  id: 7,
  title: "Blue Teapot",
  slug: "blue-teapot",
  description: "",
  status: "active",
  category: null,
  attributes: {},
  vendor: "Acme",
  tags: ["tea", "gift"],
  created_at: "2026-12-01T00:00:00Z",
  updated_at: "2026-12-01T00:00:00Z",
  images: [image(1, "Front"), image(2, "Side")],
  variants: [{ id: 3, sku: "TEA-1", title: "", price: eur("24.50"), compare_at_price: null, stock: 2, low_stock_threshold: 5, options: {} }],
};
const EDIT = { path: "/s/teas/products/7", route: "/s/:slug/products/:productId" };

describe("product editing", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("says when a product is saved, and links to it on the storefront", async () => {
    answerWith({
      "GET /api/admin/v1/products/7": { body: PRODUCT },
      "PATCH /api/admin/v1/products/7": (call) => ({ body: { ...PRODUCT, ...(call.body as object), updated_at: "2026-12-02T00:00:00Z" } }),
      "GET /api/admin/v1/categories": { body: { results: [], next: null } },
    });
    renderAdmin(<EditProductPage />, EDIT);
    const link = await screen.findByRole("link", { name: /View on storefront/ });
    expect(link.getAttribute("href")).toMatch(/^http:\/\/teas\.localhost(:\d+)?\/products\/blue-teapot$/);
    const user = userEvent.setup();
    await user.clear(screen.getByLabelText("Title"));
    await user.paste("Green Teapot");
    await user.click(screen.getByRole("button", { name: "Save product" }));
    // The editor remounts for the saved product; the toast outlives it.
    expect(await screen.findByText("Product saved.")).toBeInTheDocument();
    expect(await screen.findByRole("heading", { name: "Green Teapot" })).toBeInTheDocument();
  });

  it("edits the vendor and the tags, sent as a list without blanks or repeats", async () => {
    const calls = answerWith({
      "GET /api/admin/v1/products/7": { body: PRODUCT },
      "PATCH /api/admin/v1/products/7": (call) => ({ body: { ...PRODUCT, ...(call.body as object), updated_at: "2026-12-02T00:00:00Z" } }),
      "GET /api/admin/v1/categories": { body: { results: [], next: null } },
    });
    renderAdmin(<EditProductPage />, EDIT);
    const user = userEvent.setup();
    const tags = await screen.findByLabelText("Tags");
    expect(tags).toHaveValue("tea, gift");
    expect(screen.getByLabelText("Vendor")).toHaveValue("Acme");
    await user.clear(tags);
    await user.paste("tea, , sale ,tea");
    await user.clear(screen.getByLabelText("Vendor"));
    await user.paste(" Tea House ");
    await user.click(screen.getByRole("button", { name: "Save product" }));
    expect(await screen.findByText("Product saved.")).toBeInTheDocument();
    const patch = calls.find((call) => call.method === "PATCH");
    expect(patch?.body).toMatchObject({ tags: ["tea", "sale"], vendor: "Tea House" });
  });

  it("refuses a tag longer than the API takes, before sending", async () => {
    const calls = answerWith({
      "GET /api/admin/v1/products/7": { body: PRODUCT },
      "GET /api/admin/v1/categories": { body: { results: [], next: null } },
    });
    renderAdmin(<EditProductPage />, EDIT);
    const user = userEvent.setup();
    const tags = await screen.findByLabelText("Tags");
    await user.clear(tags);
    await user.paste("x".repeat(65));
    await user.click(screen.getByRole("button", { name: "Save product" }));
    expect(await screen.findByText("Tags of at most 64 characters.")).toBeInTheDocument();
    expect(calls.some((call) => call.method === "PATCH")).toBe(false);
  });

  it("edits an image's alt text and reorders the images", async () => {
    const calls = answerWith({
      "GET /api/admin/v1/products/7": { body: PRODUCT },
      "GET /api/admin/v1/categories": { body: { results: [], next: null } },
      "PATCH /api/admin/v1/products/7/images/2": (call) => ({ body: { ...image(2, ""), ...(call.body as object) } }),
      "POST /api/admin/v1/products/7/images/reorder": { body: [image(2, "Side"), image(1, "Front")] },
    });
    renderAdmin(<EditProductPage />, EDIT);
    const user = userEvent.setup();
    const alt = await screen.findByDisplayValue("Side");
    await user.clear(alt);
    await user.type(alt, "The spout, from the side");
    const saves = screen.getAllByRole("button", { name: "Save alt text" });
    await user.click(saves[1]!);
    expect(await screen.findByText("Alt text saved.")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ alt: "The spout, from the side" });

    await user.click(screen.getByRole("button", { name: /Move image 2 .* earlier/ }));
    expect(await screen.findByText("Image order saved.")).toBeInTheDocument();
    expect(calls.find((c) => c.path.endsWith("/reorder"))?.body).toEqual({ order: [2, 1] });
  });

  it("moves one item and keeps the rest in order", () => {
    expect(moveItem(["a", "b", "c", "d"], 3, 0)).toEqual(["d", "a", "b", "c"]);
    expect(moveItem(["a", "b", "c"], 0, 2)).toEqual(["b", "c", "a"]);
    expect(moveItem(["a", "b"], 0, 5)).toEqual(["a", "b"]);
  });
});

describe("a new product", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("uploads the images chosen before it existed, with their alt text, right after the create", async () => {
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: () => "blob:preview", revokeObjectURL: () => {} }));
    const calls = answerWith({
      "GET /api/admin/v1/categories": { body: { results: [], next: null } },
      "POST /api/admin/v1/products": { status: 201, body: { ...PRODUCT, images: [] } },
      "POST /api/admin/v1/products/7/images": { status: 201, body: { ...image(9, "A blue teapot"), status: "pending", url: null, upload: { method: "PUT", url: "/upload/x", headers: {} } } },
      "POST /api/admin/v1/products/7/images/9/confirm": { body: image(9, "A blue teapot") },
    });
    renderAdmin(<NewProductPage />, { path: "/s/teas/products/new", route: "/s/:slug/products/new" });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Title"), "Blue Teapot");
    await user.type(screen.getByLabelText("SKU"), "TEA-1");
    await user.type(screen.getByLabelText("Price"), "24.50");
    await user.upload(screen.getByLabelText("Add images"), new File([new Uint8Array([137, 80, 78, 71])], "teapot.png", { type: "image/png" }));
    await user.type(screen.getByLabelText("Alt text for teapot.png"), "A blue teapot");
    await user.click(screen.getByRole("button", { name: "Create product" }));

    expect(await screen.findByText("Product created with 1 image.")).toBeInTheDocument();
    await waitFor(() => expect(calls.map((c) => `${c.method} ${c.path}`)).toContain("POST /api/admin/v1/products/7/images/9/confirm"));
    const start = calls.find((c) => c.path === "/api/admin/v1/products/7/images");
    expect(start?.body).toMatchObject({ filename: "teapot.png", content_type: "image/png", alt: "A blue teapot" });
    const order = calls.map((c) => c.path).filter((p) => p.startsWith("/api/admin/v1/products"));
    expect(order.indexOf("/api/admin/v1/products")).toBeLessThan(order.indexOf("/api/admin/v1/products/7/images"));
  });
});
