import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { absoluteUrl, shopOrigin, unwrap } from "../../../api/client";
import { formatMoney, money } from "../../../api/money";
import { Empty, ErrorMessage, Loading } from "../../../shared/ui";
import { BulkEdit } from "../../bulk/BulkEdit";
import { CsvExport } from "../../bulk/CsvExport";
import { ProductImport } from "../../bulk/ProductImport";
import { queryKeys } from "../../queryKeys";
import { useCursorList, useShopApi } from "../../session";
import type { Product } from "../../types";
import { DataTable, Thumb, useServerSort, type Column } from "../../ui/DataTable";
import type { paths } from "../../../api/generated/shop";
import { STATUSES, type Status } from "./productForm";

function stockOf(product: Product): number {
  return product.variants.reduce((sum, v) => sum + v.stock, 0);
}

/** The cheapest variant's price: what the list sorts "price" by. */
function cheapest(product: Product) {
  return product.variants.map((v) => money(v.price)).sort((a, b) => Number(a?.amount ?? 0) - Number(b?.amount ?? 0))[0] ?? null;
}

type ProductOrdering = NonNullable<NonNullable<paths["/api/admin/v1/products"]["get"]["parameters"]["query"]>["ordering"]>;

/** The table's columns; those with an `ordering` are sorted by the API (all products, not just those loaded). */
function productColumns(origin: string): Column<Product>[] {
  return [
    {
      id: "title",
      header: "Product",
      ordering: "title",
      cell: (p) => {
        const image = p.images.find((i) => i.url);
        // The narrowest stored width is plenty for a 40 px square (even at 3x).
        const src = image ? (image.renditions[0]?.url ?? image.thumbnail_url ?? image.url!) : null;
        return (
          <span className="cell-with-thumb">
            <Thumb src={src ? absoluteUrl(src, origin) : null} alt="" />
            <Link to={String(p.id)}>{p.title}</Link>
          </span>
        );
      },
    },
    { id: "status", header: "Status", cell: (p) => <span className="badge">{p.status}</span> },
    { id: "skus", header: "SKUs", cell: (p) => p.variants.map((v) => v.sku).join(", ") },
    { id: "vendor", header: "Vendor", cell: (p) => p.vendor },
    { id: "tags", header: "Tags", cell: (p) => p.tags.join(", ") },
    { id: "stock", header: "Stock", numeric: true, ordering: "stock", cell: (p) => stockOf(p) },
    {
      id: "price",
      header: "Price",
      numeric: true,
      ordering: "price",
      cell: (p) => `${p.variants.length > 1 ? "from " : ""}${formatMoney(cheapest(p))}`,
    },
    { id: "updated", header: "Updated", ordering: "updated_at", cell: (p) => new Date(p.updated_at).toLocaleDateString() },
  ];
}

export function ProductsPage() {
  const { api, slug, domain } = useShopApi();
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState(params.get("q") ?? "");
  const [tagText, setTagText] = useState(params.get("tag") ?? "");
  const [vendorText, setVendorText] = useState(params.get("vendor") ?? "");
  const status = params.get("status") ?? "";
  const query = params.get("q") || undefined;
  const tag = params.get("tag") || undefined;
  const vendor = params.get("vendor") || undefined;
  const origin = shopOrigin(domain);
  const columns = productColumns(origin);
  const sorting = useServerSort(columns);
  const ordering = sorting.ordering as ProductOrdering | undefined;
  const list = useCursorList(queryKeys.shop(slug).products({ q: query, status, tag, vendor, ordering }), (cursor) =>
    unwrap(
      api.GET("/api/admin/v1/products", {
        params: { query: { q: query, status: (status || undefined) as Status | undefined, tag, vendor, ordering, cursor } },
      }),
    ),
  );
  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams(params);
    for (const [name, value] of [
      ["q", q],
      ["tag", tagText],
      ["vendor", vendorText],
    ] as const) {
      if (value.trim()) next.set(name, value.trim());
      else next.delete(name);
    }
    setParams(next);
  };
  return (
    <>
      <div className="actions">
        <h1>Products</h1>
        <Link className="button" to="new">
          New product
        </Link>
      </div>
      <form role="search" className="actions" onSubmit={onSearch}>
        <label htmlFor="product-search" className="visually-hidden">
          Search products
        </label>
        <input id="product-search" type="search" placeholder="Title or SKU" value={q} onChange={(e) => setQ(e.target.value)} />
        <label htmlFor="tag-filter">Tag</label>
        <input id="tag-filter" type="search" value={tagText} onChange={(e) => setTagText(e.target.value)} />
        <label htmlFor="vendor-filter">Vendor</label>
        <input id="vendor-filter" type="search" value={vendorText} onChange={(e) => setVendorText(e.target.value)} />
        <button type="submit">Search</button>
        <label htmlFor="status-filter">Status</label>
        <select
          id="status-filter"
          value={status}
          onChange={(e) => {
            const next = new URLSearchParams(params);
            if (e.target.value) next.set("status", e.target.value);
            else next.delete("status");
            setParams(next);
          }}
        >
          <option value="">Any</option>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </form>
      {list.isPending && <Loading />}
      <ErrorMessage error={list.error} onRetry={() => list.refetch()} />
      {list.isSuccess && list.items.length === 0 && <Empty>No products yet. Create your first one.</Empty>}
      {list.items.length > 0 && (
        <DataTable
          caption="Products"
          rows={list.items}
          columns={columns}
          rowId={(p) => p.id}
          rowLabel={(p) => p.title}
          selectable
          bulkActions={(ids, clear) => <BulkEdit productIds={ids.map(Number)} onDone={clear} label={`Edit the ${ids.length} selected`} />}
          more={list}
          sort={sorting.sort}
          onSortChange={sorting.onSortChange}
        />
      )}
      <ProductImport />
      <CsvExport kind="products" />
    </>
  );
}
