import { QueryClient } from "@tanstack/react-query";
import { listFilters, seedQueries } from "./seed";

function page(data: unknown): Document {
  const doc = document.implementation.createHTMLDocument("x");
  const script = doc.createElement("script");
  script.id = "storefleet-data";
  script.type = "application/json";
  script.textContent = typeof data === "string" ? data : JSON.stringify(data);
  doc.body.append(script);
  return doc;
}

describe("the server's embedded first-screen data", () => {
  it("lands in the query cache under the keys the pages ask with", () => {
    const client = new QueryClient();
    const list = { results: [], next: null, previous: null, facets: { total: 0 } };
    seedQueries(
      client,
      page({
        shop: { name: "Alpha" },
        theme: { brand_color: "#1f5fbf" },
        categories: [],
        product: { slug: "blue-teapot", title: "Blue Teapot" },
        page: { kind: "returns", title: "Returns" },
        products: { query: "category=teapots&min_price=10", page: list },
      }),
    );
    expect(client.getQueryData(["shop"])).toEqual({ name: "Alpha" });
    expect(client.getQueryData(["theme"])).toEqual({ brand_color: "#1f5fbf" });
    expect(client.getQueryData(["product", "blue-teapot"])).toMatchObject({ title: "Blue Teapot" });
    expect(client.getQueryData(["content-page", "returns"])).toMatchObject({ title: "Returns" });
    const key = ["products", listFilters(new URLSearchParams("?min_price=10&category=teapots"))];
    expect(client.getQueryData(key)).toEqual({ pages: [list], pageParams: [undefined] });
  });

  it("ignores a page without data, or with data that does not parse", () => {
    const client = new QueryClient();
    seedQueries(client, document.implementation.createHTMLDocument("x"));
    seedQueries(client, page("{not json"));
    expect(client.getQueryCache().getAll()).toHaveLength(0);
  });
});
