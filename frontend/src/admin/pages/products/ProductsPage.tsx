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
import { DataTable, Thumb, type Column } from "../../ui/DataTable";
import { STATUSES, type Status } from "./productForm";

function stockOf(product: Product): number {
  return product.variants.reduce((sum, v) => sum + v.stock, 0);
}

function priceOf(product: Product): number {
  return Number(money(product.variants[0]?.price)?.amount ?? 0);
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
  const list = useCursorList(queryKeys.shop(slug).products({ q: query, status, tag, vendor }), (cursor) =>
    unwrap(
      api.GET("/api/admin/v1/products", {
        params: { query: { q: query, status: (status || undefined) as Status | undefined, tag, vendor, cursor } },
      }),
    ),
  );
  const origin = shopOrigin(domain);
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
  const columns: Column<Product>[] = [
    {
      id: "title",
      header: "Product",
      sortValue: (p) => p.title,
      cell: (p) => {
        const image = p.images.find((i) => i.url);
        return (
          <span className="cell-with-thumb">
            <Thumb src={image ? absoluteUrl(image.thumbnail_url ?? image.url!, origin) : null} alt="" />
            <Link to={String(p.id)}>{p.title}</Link>
          </span>
        );
      },
    },
    { id: "status", header: "Status", sortValue: (p) => p.status, cell: (p) => <span className="badge">{p.status}</span> },
    { id: "skus", header: "SKUs", cell: (p) => p.variants.map((v) => v.sku).join(", ") },
    { id: "vendor", header: "Vendor", sortValue: (p) => p.vendor, cell: (p) => p.vendor },
    { id: "tags", header: "Tags", cell: (p) => p.tags.join(", ") },
    { id: "stock", header: "Stock", numeric: true, sortValue: stockOf, cell: (p) => stockOf(p) },
    { id: "price", header: "Price", numeric: true, sortValue: priceOf, cell: (p) => formatMoney(money(p.variants[0]?.price)) },
  ];
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
        />
      )}
      <ProductImport />
      <CsvExport kind="products" />
    </>
  );
}
