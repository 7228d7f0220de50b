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
  const status = params.get("status") ?? "";
  const query = params.get("q") || undefined;
  const list = useCursorList(queryKeys.shop(slug).products({ q: query, status }), (cursor) =>
    unwrap(api.GET("/api/admin/v1/products", { params: { query: { q: query, status: (status || undefined) as Status | undefined, cursor } } })),
  );
  const origin = shopOrigin(domain);
  const onSearch = (event: FormEvent) => {
    event.preventDefault();
    const next = new URLSearchParams(params);
    if (q.trim()) next.set("q", q.trim());
    else next.delete("q");
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
