import type { QueryClient } from "@tanstack/react-query";

// The server writes the first screen's API answers into the page (config/spa.py),
// so the storefront paints without waiting for the API: each goes into the query
// cache under the key the page's own query uses, as if it had just been fetched.

type Embedded = {
  shop?: unknown;
  theme?: unknown;
  categories?: unknown;
  product?: { slug?: string };
  page?: { kind?: string };
  products?: { query: string; page: unknown };
};

/** The product list's filters in the URL: the key of the list's query (see Home). */
export const LIST_FILTERS = ["q", "category", "min_price", "max_price", "in_stock", "ordering"] as const;

export function listFilters(params: URLSearchParams): Record<string, string | undefined> {
  return Object.fromEntries(LIST_FILTERS.map((name) => [name, params.get(name) ?? undefined]));
}

export function seedQueries(queryClient: QueryClient, doc: Document = document): void {
  const script = doc.getElementById("storefleet-data");
  if (!script?.textContent) return;
  let data: Embedded;
  try {
    data = JSON.parse(script.textContent) as Embedded;
  } catch {
    return; // a page without usable data: the queries fetch as usual
  }
  if (data.shop) queryClient.setQueryData(["shop"], data.shop);
  if (data.theme) queryClient.setQueryData(["theme"], data.theme);
  if (data.categories) queryClient.setQueryData(["categories"], data.categories);
  if (data.product?.slug) queryClient.setQueryData(["product", data.product.slug], data.product);
  if (data.page?.kind) queryClient.setQueryData(["content-page", data.page.kind], data.page);
  if (data.products) {
    const filters = listFilters(new URLSearchParams(data.products.query));
    queryClient.setQueryData(["products", filters], { pages: [data.products.page], pageParams: [undefined] });
  }
}
