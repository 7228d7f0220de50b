import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { vi } from "vitest";
import { COUNTRY_CODES, countryOptions } from "../../../shared/countries";
import { answerWith, problemBody, renderAdmin } from "../../testing";
import { DiscountsPage, discountBody, discountDraft } from "./Discounts";
import { ShippingPage, zoneBody, zoneDraft, NEW_METHOD } from "./Shipping";
import { parseRate, TaxesPage } from "./Taxes";

vi.setConfig({ testTimeout: 30_000 }); // filling whole forms takes seconds on a busy machine

const eur = (amount: string) => ({ amount, currency: "EUR" });
const ZONE = {
  id: 3,
  name: "DACH",
  countries: ["DE", "AT"],
  postal_code_prefixes: [],
  methods: [
    { id: 11, name: "Standard", rate_type: "flat", price: eur("4.90"), free_over: eur("50.00"), weight_bands: [], min_days: 2, max_days: 4, pickup: false },
    { id: 12, name: "Pickup", rate_type: "flat", price: eur("0.00"), free_over: null, weight_bands: [], min_days: null, max_days: null, pickup: true },
  ],
};
const TAXES = { prices_include_tax: false, shipping_taxable: true, default_rate: "0", rates: [], category_overrides: [] };
const CATEGORIES = {
  results: [
    { id: 5, name: "Books", slug: "books", parent: null, position: 0, attribute_schema: null },
    { id: 6, name: "Tea", slug: "tea", parent: null, position: 1, attribute_schema: null },
  ],
  next: null,
};
const DISCOUNT = {
  id: 9,
  code: "SUMMER",
  kind: "percentage",
  value: "15",
  applies_to: { products: [], categories: [6] },
  min_subtotal: eur("30.00"),
  starts_at: null,
  ends_at: "2027-01-01T00:00:00Z",
  usage_limit: 10,
  usage_limit_per_customer: 1,
  active: true,
  times_used: 3,
  created_at: "2026-12-01T00:00:00Z",
  updated_at: "2026-12-01T00:00:00Z",
};

describe("selling settings input", () => {
  it("takes rates from 0 to 100 with at most four decimals", () => {
    expect(parseRate("19")).toBe("19");
    expect(parseRate("5,5")).toBe("5.5");
    expect(parseRate("8.875")).toBe("8.875");
    for (const bad of ["-1", "100.5", "101", "1.23456", "abc", ""]) expect(parseRate(bad)).toBeNull();
  });

  it("offers every ISO country by name", () => {
    const options = countryOptions();
    expect(options).toHaveLength(COUNTRY_CODES.length);
    expect(options).toContainEqual(["DE", "Germany"]);
  });

  it("checks a zone's methods where the API would, by the API's field names", () => {
    const draft = zoneDraft();
    expect(zoneBody(draft).errors).toEqual({ name: ["The zone needs a name."], countries: ["Add at least one country."] });
    const heavy = { ...NEW_METHOD, name: "Heavy", rate_type: "weight" as const, bands: [{ up_to_grams: "1000", price: "5" }, { up_to_grams: "1000", price: "9" }] };
    const days = { ...NEW_METHOD, name: "Slow", price: "x", min_days: "9", max_days: "3" };
    const { body, errors } = zoneBody({ name: "Z", countries: ["DE"], prefixes: "10, ??", methods: [heavy, days] });
    expect(body).toBeNull();
    expect(errors).toEqual({
      postal_code_prefixes: ["“??” is not a postal code prefix (letters, digits, spaces, dashes)."],
      "methods.0.weight_bands": ["Each band needs its own weight."],
      "methods.1.price": ["An amount like 4.90."],
      "methods.1.min_days": ["At most the max days."],
    });
    const fine = zoneBody({ name: "Z", countries: ["DE"], prefixes: "10 ; 12", methods: [{ ...heavy, bands: [{ up_to_grams: "30000", price: "14.90" }, { up_to_grams: "1000", price: "5.90" }] }] });
    expect(fine.body?.postal_code_prefixes).toEqual(["10", "12"]);
    expect(fine.body?.methods?.[0]?.weight_bands).toEqual([{ up_to_grams: 1000, price: "5.90" }, { up_to_grams: 30000, price: "14.90" }]);
  });

  it("checks a discount's scope, dates and limits", () => {
    const draft = { ...discountDraft(), value: "10", scope: "products" as const, startsAt: "2027-02-01T10:00", endsAt: "2027-01-01T10:00", usageLimit: "0" };
    expect(discountBody(draft).errors).toEqual({
      "applies_to.products": ["Pick at least one product."],
      usage_limit: ["A whole number from 1."],
      ends_at: ["After the start."],
    });
    expect(discountDraft(DISCOUNT as never)).toMatchObject({ scope: "categories", categories: [6], minSubtotal: "30.00", usageLimit: "10", perCustomer: "1" });
  });
});

describe("shipping page", () => {
  it("edits a zone: countries by name, a weight-based method with bands, the kept method ids", async () => {
    const calls = answerWith({
      "GET /api/admin/v1/shipping-zones": { body: [ZONE] },
      "PATCH /api/admin/v1/shipping-zones/3": (call) => ({ body: { ...ZONE, ...(call.body as object) } }),
    });
    renderAdmin(<ShippingPage />);
    const card = await screen.findByRole("region", { name: "Zone DACH" }, { timeout: 5_000 });
    expect(card).toHaveTextContent("Germany, Austria");
    expect(card).toHaveTextContent("Standard: €4.90 · free over €50.00 · 2–4 days");
    await userEvent.click(within(card).getByRole("button", { name: "Edit zone DACH" }));
    const form = within(card).getByRole("form", { name: "Edit zone DACH" });
    await userEvent.click(within(form).getByRole("button", { name: "Remove Austria" }));
    await userEvent.selectOptions(within(form).getByLabelText("Add a country"), "CH");
    expect(within(form).getByRole("list", { name: "Countries chosen" })).toHaveTextContent("Germany×Switzerland×");
    await userEvent.selectOptions(within(form).getByLabelText("Method 2 rate"), "weight");
    await userEvent.type(within(form).getByLabelText("Band 1 up to (grams)"), "2000");
    await userEvent.type(within(form).getByLabelText("Band 1 price"), "6,50");
    await userEvent.click(within(form).getByRole("button", { name: "Save zone" }));
    await screen.findByText("Zone DACH saved.");
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.body).toMatchObject({
      countries: ["DE", "CH"],
      methods: [
        { id: 11, name: "Standard", rate_type: "flat", price: "4.90", free_over: "50.00", min_days: 2, max_days: 4 },
        { id: 12, name: "Pickup", rate_type: "weight", weight_bands: [{ up_to_grams: 2000, price: "6.50" }], pickup: true },
      ],
    });
  });

  it("refuses a zone without countries before asking, shows the API's overlap, and deletes", async () => {
    vi.stubGlobal("confirm", () => true);
    const calls = answerWith({
      "GET /api/admin/v1/shipping-zones": { body: [ZONE] },
      "POST /api/admin/v1/shipping-zones": {
        status: 409,
        body: problemBody(409, "shipping_zone_overlap", { detail: "A country can be in one shipping zone only: DE (in DACH).", errors: { countries: ["Already in another zone: DE (in DACH)."] } }),
      },
      "DELETE /api/admin/v1/shipping-zones/3": { status: 204 },
    });
    renderAdmin(<ShippingPage />);
    const form = await screen.findByRole("form", { name: "New zone" });
    await userEvent.type(within(form).getByLabelText("Zone name"), "Germany");
    await userEvent.click(within(form).getByRole("button", { name: "Create zone" }));
    expect(await within(form).findByText("Add at least one country.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    await userEvent.selectOptions(within(form).getByLabelText("Add a country"), "DE");
    await userEvent.click(within(form).getByRole("button", { name: "Create zone" }));
    expect(await within(form).findByText("Already in another zone: DE (in DACH).")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Delete zone DACH" }));
    await screen.findByText("Zone DACH deleted.");
    expect(calls.some((c) => c.method === "DELETE" && c.path === "/api/admin/v1/shipping-zones/3")).toBe(true);
  });
});

describe("taxes page", () => {
  it("saves rates by region and a reduced rate for a category picked by name", async () => {
    const calls = answerWith({
      "GET /api/admin/v1/taxes": { body: TAXES },
      "GET /api/admin/v1/categories": { body: CATEGORIES },
      "GET /api/storefront/v1/countries/US/regions": { body: [{ code: "CA", name: "California", type: "State" }, { code: "NY", name: "New York", type: "State" }] },
      "PUT /api/admin/v1/taxes": (call) => ({ body: call.body }),
    });
    renderAdmin(<TaxesPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Add a rate" }));
    await userEvent.selectOptions(screen.getByLabelText("Country 1"), "US");
    await userEvent.selectOptions(await screen.findByLabelText("Region 1"), "CA");
    await userEvent.type(screen.getByLabelText("Rate (%)"), "7.25");
    await userEvent.type(screen.getByLabelText("Name"), "CA sales tax");
    await userEvent.click(screen.getByRole("button", { name: "Add a category rate" }));
    await userEvent.selectOptions(screen.getByLabelText("Override 1 category"), "Books");
    await userEvent.selectOptions(screen.getByLabelText("Override 1 country"), "DE");
    await userEvent.type(screen.getByLabelText("Override 1 rate (%)"), "7");
    await userEvent.click(screen.getByRole("button", { name: "Save taxes" }));
    expect(await screen.findByText("Name the tax, e.g. VAT reduced.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "PUT")).toBe(false);
    await userEvent.type(screen.getByLabelText("Override 1 name"), "MwSt ermäßigt");
    await userEvent.click(screen.getByRole("button", { name: "Save taxes" }));
    await screen.findByText("Taxes saved.");
    expect(calls.find((c) => c.method === "PUT")!.body).toEqual({
      ...TAXES,
      rates: [{ country: "US", region: "CA", rate: "7.25", name: "CA sales tax" }],
      category_overrides: [{ category: 5, country: "DE", rate: "7", name: "MwSt ermäßigt" }],
    });
  });
});

describe("discounts page", () => {
  it("shows uses and scope, and creates a code for products found by search", async () => {
    const calls = answerWith({
      "GET /api/admin/v1/discounts": { body: { results: [DISCOUNT], next: null } },
      "GET /api/admin/v1/products": { body: { results: [{ id: 7, title: "Blue Teapot" }], next: null } },
      "GET /api/admin/v1/products/7": { body: { id: 7, title: "Blue Teapot" } },
      "POST /api/admin/v1/discounts": (call) => ({ status: 201, body: { ...DISCOUNT, id: 10, ...(call.body as object) } }),
    });
    renderAdmin(<DiscountsPage />);
    const table = await screen.findByRole("region", { name: "Discounts" });
    expect(table).toHaveTextContent("SUMMER15% off1 category€30.00");
    expect(table).toHaveTextContent("3 of 10 (1 per customer)");
    await userEvent.type(screen.getByLabelText("Code"), "TEAPOT5");
    await userEvent.selectOptions(screen.getByLabelText("Kind"), "fixed");
    await userEvent.type(screen.getByLabelText("Amount"), "5");
    await userEvent.click(screen.getByLabelText("Some products"));
    await userEvent.type(screen.getByLabelText("Find products"), "teapot");
    await userEvent.click(await screen.findByRole("button", { name: "Add Blue Teapot" }));
    expect(await screen.findByRole("list", { name: "Products chosen" })).toHaveTextContent("Blue Teapot");
    await userEvent.type(screen.getByLabelText("Uses per customer (optional)"), "2");
    await userEvent.click(screen.getByRole("button", { name: "Create discount" }));
    await screen.findByText("Discount TEAPOT5 saved.");
    expect(calls.find((c) => c.path === "/api/admin/v1/products")).toBeTruthy();
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({
      code: "TEAPOT5",
      kind: "fixed",
      value: "5",
      applies_to: { categories: [], products: [7] },
      min_subtotal: null,
      starts_at: null,
      ends_at: null,
      usage_limit: null,
      usage_limit_per_customer: 2,
      active: true,
    });
  });

  it("edits a discount's categories and deactivates it", async () => {
    const calls = answerWith({
      "GET /api/admin/v1/discounts": { body: { results: [DISCOUNT], next: null } },
      "GET /api/admin/v1/categories": { body: CATEGORIES },
      "PATCH /api/admin/v1/discounts/9": (call) => ({ body: { ...DISCOUNT, ...(call.body as object) } }),
    });
    renderAdmin(<DiscountsPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Edit SUMMER" }));
    const editor = screen.getByRole("region", { name: "Edit SUMMER" });
    expect(within(editor).getByLabelText("Tea")).toBeChecked();
    await userEvent.type(within(editor).getByLabelText("Find a category"), "boo");
    expect(within(editor).queryByLabelText("Tea")).toBeChecked(); // chosen ones stay in sight
    await userEvent.click(within(editor).getByLabelText("Books"));
    await userEvent.click(within(editor).getByRole("button", { name: "Save discount" }));
    await screen.findByText("Discount SUMMER saved.");
    const saved = calls.find((c) => c.method === "PATCH")!.body as { applies_to: unknown; ends_at: string };
    expect(saved.applies_to).toEqual({ categories: [6, 5], products: [] });
    expect(saved.ends_at).toBe("2027-01-01T00:00:00.000Z");
    await userEvent.click(screen.getByRole("button", { name: "Deactivate SUMMER" }));
    await screen.findByText("Discount SUMMER deactivated.");
    await waitFor(() => expect(calls.filter((c) => c.method === "PATCH").at(-1)!.body).toEqual({ active: false }));
  });
});
