import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter, Route, Routes, useLocation } from "react-router-dom";
import { storefrontClient } from "../../api/client";
import { StorefrontApiProvider } from "../api";
import { Home, resultsHeading } from "./Home";

const facets = {
  total: 3,
  in_stock: 3,
  categories: [{ id: 2, slug: "teapots", name: "Teapots", count: 3 }],
  price_bands: [
    { min: "0", max: "10", count: 1 },
    { min: "10", max: "25", count: 2 },
    { min: "250", max: null, count: 0 },
  ],
};
const categories = [{ id: 1, name: "Kitchen", slug: "kitchen", children: [{ id: 2, name: "Teapots", slug: "teapots", children: [] }] }];
const theme = {
  brand_color: "#1f5fbf", accent_color: "#1d2330", font: "system", logo_url: null, announcement: "", payment_instructions: "",
  hero: { title: "Teas from small gardens", text: "Picked by hand.", image: [] }, pages: [], updated_at: null,
};
const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });

function Where() {
  const location = useLocation();
  return <output data-testid="where">{location.search}</output>;
}

function renderHome(path = "/") {
  const requested: URL[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (request: Request) => {
      const url = new URL(request.url);
      if (url.pathname.endsWith("/categories")) return json(categories);
      if (url.pathname.endsWith("/theme")) return json(theme);
      if (url.pathname.endsWith("/shop")) return json({ name: "Alpha", slug: "alpha", currency: "EUR" });
      requested.push(url);
      return json({ results: [], next: null, previous: null, facets });
    }),
  );
  const client = storefrontClient("http://shop.localhost");
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={queryClient}>
      <StorefrontApiProvider client={client}>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route
              index
              element={
                <>
                  <Home />
                  <Where />
                </>
              }
            />
          </Routes>
        </MemoryRouter>
      </StorefrontApiProvider>
    </QueryClientProvider>,
  );
  return requested;
}

describe("storefront home", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("sets both bounds of a price band, asks for both, and shows the band chosen", async () => {
    const requested = renderHome();
    const band = await screen.findByRole("radio", { name: /10 – 25/ });
    await userEvent.click(band);
    await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent("?min_price=10&max_price=25"));
    await waitFor(() => {
      const last = requested.at(-1)!;
      expect(last.searchParams.get("min_price")).toBe("10");
      expect(last.searchParams.get("max_price")).toBe("25");
    });
    expect(await screen.findByRole("radio", { name: /10 – 25/ })).toBeChecked();
    expect(screen.getByRole("radio", { name: "Any price" })).not.toBeChecked();

    await userEvent.click(screen.getByRole("radio", { name: /250 and up/ }));
    await waitFor(() => expect(screen.getByTestId("where")).toHaveTextContent(/^\?min_price=250$/));
    expect(await screen.findByRole("radio", { name: /250 and up/ })).toBeChecked();

    await userEvent.click(screen.getByRole("radio", { name: "Any price" }));
    await waitFor(() => expect(screen.getByTestId("where")).toBeEmptyDOMElement());
  });

  it("names the category in the results heading, however deep it is", async () => {
    renderHome("/?category=teapots");
    expect(await screen.findByRole("heading", { level: 2, name: /^Teapots/ })).toBeInTheDocument();
    expect(screen.queryByRole("region", { name: "Welcome" })).toBeNull(); // the hero is the front page's
  });

  it("greets with the merchant's hero on the front page, and keeps the filters in a drawer on phones", async () => {
    renderHome();
    expect(await screen.findByRole("region", { name: "Welcome" })).toHaveTextContent("Teas from small gardens");
    const toggle = screen.getByRole("button", { name: "Filters" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    expect(document.getElementById("filters")).toHaveClass("open");
    await userEvent.click(await screen.findByRole("button", { name: "Show 3 products" }));
    expect(document.getElementById("filters")).not.toHaveClass("open");
  });

  it("words the heading for a search, a category and both", () => {
    expect(resultsHeading(null, null)).toBe("All products");
    expect(resultsHeading(null, "Teapots")).toBe("Teapots");
    expect(resultsHeading("blue", null)).toBe("Results for “blue”");
    expect(resultsHeading("blue", "Teapots")).toBe("Results for “blue” in Teapots");
  });
});
