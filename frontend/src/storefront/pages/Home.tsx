import { useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { cursorOf, unwrap } from "../../api/client";
import { formatMoney, money } from "../../api/money";
import { Empty, ErrorMessage, Loading } from "../../shared/ui";
import { findCategory, useApi, useCategories, useShop, useTheme } from "../api";
import { LIST_FILTERS, listFilters } from "../seed";
import { Picture } from "../Picture";
import type { Facets, Product, Theme } from "../types";


/** How wide a card's picture is drawn: the whole column on a phone, a grid cell (at most about 280 px) beyond. */
export const CARD_SIZES = "(max-width: 479px) calc(100vw - 2.5rem), 280px";

/** A product in the list; `priority` for the first one, which is above the fold. */
export function ProductCard({ product, priority = false }: { product: Product; priority?: boolean }) {
  const image = product.images[0];
  const prices = product.variants.map((variant) => money(variant.price)).filter((m) => m !== null);
  const cheapest = prices.sort((a, b) => Number(a.amount) - Number(b.amount))[0];
  const inStock = product.variants.some((variant) => variant.in_stock);
  return (
    <li className="card">
      <div className="thumb">
        {image?.thumbnail_url || image?.url ? (
          <Picture
            renditions={image.renditions}
            fallback={image.thumbnail_url ?? image.url}
            alt={image.alt || product.title}
            sizes={CARD_SIZES}
            width={280}
            height={280}
            priority={priority}
          />
        ) : (
          <span aria-hidden="true">No image</span>
        )}
      </div>
      <Link className="title" to={`/products/${product.slug}`}>
        {product.title}
      </Link>
      <span className="price">
        {product.variants.length > 1 && "from "}
        {formatMoney(cheapest)}
      </span>
      <span className={`badge ${inStock ? "ok" : "warn"}`}>{inStock ? "In stock" : "Out of stock"}</span>
    </li>
  );
}

type SetFilters = (changes: Record<string, string | null>) => void;

function FacetFilters({ facets, params, set }: { facets: Facets; params: URLSearchParams; set: SetFilters }) {
  const band = params.get("min_price") !== null || params.get("max_price") !== null
    ? `${params.get("min_price") ?? ""}-${params.get("max_price") ?? ""}`
    : "";
  return (
    <aside aria-label="Filters">
      <fieldset>
        <legend>Category</legend>
        <ul className="plain">
          <li>
            <label className="checkbox">
              <input type="radio" name="category" checked={!params.get("category")} onChange={() => set({ category: null })} />
              All ({facets.total})
            </label>
          </li>
          {facets.categories.map((category) => (
            <li key={category.id}>
              <label className="checkbox">
                <input
                  type="radio"
                  name="category"
                  checked={params.get("category") === category.slug}
                  onChange={() => set({ category: category.slug })}
                />
                {category.name} ({category.count})
              </label>
            </li>
          ))}
        </ul>
      </fieldset>
      <fieldset>
        <legend>Price</legend>
        <label className="checkbox">
          <input type="radio" name="price" checked={band === ""} onChange={() => set({ min_price: null, max_price: null })} />
          Any price
        </label>
        {facets.price_bands.map((priceBand) => {
          const value = `${priceBand.min}-${priceBand.max ?? ""}`;
          return (
            <label className="checkbox" key={value}>
              <input
                type="radio"
                name="price"
                checked={band === value}
                // One navigation for both bounds: two in a row would each start from the
                // same old URL, and the second would drop the first's change.
                onChange={() => set({ min_price: priceBand.min, max_price: priceBand.max })}
              />
              {priceBand.max ? `${priceBand.min} – ${priceBand.max}` : `${priceBand.min} and up`} ({priceBand.count})
            </label>
          );
        })}
      </fieldset>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={params.get("in_stock") === "true"}
          onChange={(event) => set({ in_stock: event.target.checked ? "true" : null })}
        />
        In stock only ({facets.in_stock})
      </label>
    </aside>
  );
}

/** The merchant's hero: a headline, a line of text and a picture, at the width the screen needs. */
export function Hero({ theme }: { theme: Theme }) {
  const { title, text, image } = theme.hero;
  if (!title && !text && image.length === 0) return null;
  const largest = image[image.length - 1];
  return (
    <section className={`hero${largest ? " with-image" : ""}`} aria-label="Welcome">
      {largest && (
        <img
          src={largest.url}
          srcSet={image.map((size) => `${size.url} ${size.width}w`).join(", ")}
          sizes="(max-width: 1100px) 100vw, 1100px"
          alt=""
          fetchPriority="high"
        />
      )}
      <div className="hero-text">
        {title && <p className="hero-title">{title}</p>}
        {text && <p>{text}</p>}
      </div>
    </section>
  );
}

/** What the results are: a search, a category, or everything. */
export function resultsHeading(q: string | null, categoryName: string | null): string {
  if (q && categoryName) return `Results for “${q}” in ${categoryName}`;
  if (q) return `Results for “${q}”`;
  return categoryName ?? "All products";
}

export function Home() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const [search, setSearch] = useState(params.get("q") ?? "");
  const filters = listFilters(params);

  const products = useInfiniteQuery({
    queryKey: ["products", filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET("/api/storefront/v1/products", {
          params: {
            query: {
              q: filters.q,
              category: filters.category,
              min_price: filters.min_price,
              max_price: filters.max_price,
              in_stock: filters.in_stock === "true" ? true : undefined,
              ordering: filters.ordering as "price" | "-price" | "-created" | "relevance" | undefined,
              cursor: pageParam,
            },
          },
        }),
      ),
    getNextPageParam: (page) => cursorOf(page.next),
  });

  const set: SetFilters = (changes) => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [name, value] of Object.entries(changes)) {
          if (value === null || value === "") next.delete(name);
          else next.set(name, value);
        }
        return next;
      },
      { replace: false },
    );
  };

  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    const q = search.trim() || null;
    set(!q && params.get("ordering") === "relevance" ? { q, ordering: null } : { q });
  };

  const categories = useCategories();
  const theme = useTheme();
  const [filtersOpen, setFiltersOpen] = useState(false);
  const filtered = LIST_FILTERS.some((name) => params.get(name));
  const activeFilters = ["category", "min_price", "in_stock"].filter((name) => params.get(name)).length;
  const categorySlug = params.get("category");
  const categoryName = categorySlug ? (findCategory(categories.data ?? [], categorySlug)?.name ?? categorySlug) : null;
  const shop = useShop();
  useEffect(() => {
    if (shop.data) document.title = categoryName ? `${categoryName} – ${shop.data.name}` : shop.data.name;
  }, [shop.data, categoryName]);
  const facets = products.data?.pages[0]?.facets;
  const items = products.data?.pages.flatMap((page) => page.results) ?? [];

  return (
    <>
      <h1 className="visually-hidden">Products</h1>
      <form role="search" className="actions" onSubmit={onSearch}>
        <label htmlFor="search" className="visually-hidden">
          Search products
        </label>
        <input
          id="search"
          type="search"
          placeholder="Search products"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
          maxLength={200}
        />
        <button type="submit">Search</button>
        <label htmlFor="ordering">Sort by</label>
        <select id="ordering" value={params.get("ordering") ?? ""} onChange={(event) => set({ ordering: event.target.value || null })}>
          <option value="">{params.get("q") ? "Best match" : "Newest"}</option>
          <option value="price">Price, low to high</option>
          <option value="-price">Price, high to low</option>
          <option value="-created">Newest</option>
        </select>
      </form>
      {!filtered && theme.data && <Hero theme={theme.data} />}
      <button
        type="button"
        className="secondary filters-toggle"
        aria-expanded={filtersOpen}
        aria-controls="filters"
        onClick={() => setFiltersOpen(true)}
      >
        Filters{activeFilters > 0 ? ` (${activeFilters})` : ""}
      </button>
      <div className="layout-sidebar">
        <div id="filters" className={`filters${filtersOpen ? " open" : ""}`}>
          <div className="filters-head">
            <h2>Filters</h2>
            <button type="button" className="secondary" onClick={() => setFiltersOpen(false)}>
              Show {facets?.total ?? ""} products
            </button>
          </div>
          {facets && <FacetFilters facets={facets} params={params} set={set} />}
        </div>
        <section aria-labelledby="results-heading">
          <h2 id="results-heading">
            {resultsHeading(params.get("q"), categoryName)}
            {facets && <span className="muted"> ({facets.total})</span>}
          </h2>
          {products.isPending && <Loading label="Loading products…" />}
          <ErrorMessage error={products.error} onRetry={() => products.refetch()} />
          {products.isSuccess && items.length === 0 && <Empty>No products match. Try another search or fewer filters.</Empty>}
          <ul className="grid" aria-live="polite">
            {items.map((product, index) => (
              <ProductCard key={product.id} product={product} priority={index === 0} />
            ))}
          </ul>
          {products.hasNextPage && (
            <div className="actions">
              <button type="button" className="secondary" onClick={() => products.fetchNextPage()} disabled={products.isFetchingNextPage}>
                {products.isFetchingNextPage ? "Loading…" : "Load more"}
              </button>
            </div>
          )}
        </section>
      </div>
    </>
  );
}
